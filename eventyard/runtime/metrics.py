"""The metrics recorder: services count and observe in memory; closed periods are written in one go.

AWS's services publish their metrics (AWS/SQS NumberOfMessagesSent, AWS/Lambda Duration, ...) once per
period, and so does Eventyard: `count`, `observe` and `gauge` only update an in-memory aggregate of
(series, period) -- no storage write per request, so hot paths keep their speed -- and a supervised
loop writes every period that has closed in one transaction (`runtime/metric_store.py`). Gauges that
describe state rather than events (queue depths, the age of the oldest message) come from *gauge
sources*: functions that read the domain's own counts once per closed period.

A crash loses at most the current period's counts, which AWS's own service metrics also treat as
approximate. With metrics turned off the recorder does nothing at all.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from eventyard.runtime.clock import Clock
from eventyard.runtime.metric_store import Aggregate, Dimensions, Point, SeriesKey, write_points
from eventyard.runtime.supervisor import Supervisor
from eventyard.storage import Database

log = logging.getLogger(__name__)

PERIOD = 60  # seconds: AWS's services publish 1-minute metrics
FLUSH_CHECK = 1.0  # how often the loop looks for closed periods (also notices a clock moved by tests)
MAX_UNWRITTEN = 100_000  # points kept for a retry while storage is down; older ones are dropped


@dataclass(frozen=True)
class GaugeSample:
    account_id: str
    region: str
    namespace: str
    name: str
    dimensions: Dimensions
    value: float
    unit: str = "Count"


GaugeSource = Callable[[float], Awaitable[Iterable[GaugeSample]]]
_Key = tuple[str, str, str, str, Dimensions, str, float, int]  # series, unit, period start, resolution


class MetricsRecorder:
    def __init__(self, db: Database, clock: Clock, enabled: bool = True) -> None:
        self.db = db
        self.clock = clock
        self.enabled = enabled
        self._open: dict[_Key, Aggregate] = {}
        self._sources: dict[str, GaugeSource] = {}
        self._sampled_period: float | None = None
        self._unwritten: list[Point] = []
        self._lock = asyncio.Lock()

    # -- recording (hot paths: memory only) -----------------------------------------------
    def count(self, namespace: str, name: str, dimensions: Dimensions, value: float = 1.0, unit: str = "Count", *,
              account_id: str, region: str, timestamp: float | None = None) -> None:
        """An event count (messages sent, invocations): summed per period, no percentiles."""
        if not self.enabled:
            return
        moment = self.clock.now() if timestamp is None else timestamp
        key = (account_id, region, namespace, name, dimensions, unit, moment - moment % PERIOD, PERIOD)
        aggregate = self._open.get(key)
        if aggregate is None:
            aggregate = self._open[key] = Aggregate(sketch=None)
        aggregate.sample_count += 1
        aggregate.total += value
        if value < aggregate.minimum:
            aggregate.minimum = value
        if value > aggregate.maximum:
            aggregate.maximum = value

    def observe(self, namespace: str, name: str, dimensions: Dimensions, value: float, unit: str = "None", *,
                account_id: str, region: str, timestamp: float | None = None, weight: float = 1.0,
                resolution: int = PERIOD, percentiles: bool = True) -> None:
        """A measured value (a duration, a size): kept with a sketch so percentiles can be asked for
        (`percentiles=False` for metrics whose documented statistics have none, which is cheaper)."""
        if not self.enabled or not math.isfinite(value):
            return
        moment = self.clock.now() if timestamp is None else timestamp
        key = (account_id, region, namespace, name, dimensions, unit, moment - moment % resolution, resolution)
        aggregate = self._open.get(key)
        if aggregate is None:
            aggregate = self._open[key] = Aggregate() if percentiles else Aggregate(sketch=None)
        aggregate.add(value, weight)

    def gauge(self, namespace: str, name: str, dimensions: Dimensions, value: float, unit: str = "Count", *,
              account_id: str, region: str) -> None:
        """A sample of a level (concurrent executions at this moment)."""
        self.observe(namespace, name, dimensions, value, unit, account_id=account_id, region=region)

    def add_gauge_source(self, name: str, source: GaugeSource) -> None:
        """`source(now)` is read once per closed period; its samples land in that period."""
        self._sources[name] = source

    # -- flushing -------------------------------------------------------------------------
    def supervise(self, supervisor: Supervisor) -> None:
        if self.enabled:
            supervisor.loop("metrics:flush", self._step, FLUSH_CHECK)

    async def _step(self) -> None:
        await self.flush()

    async def flush(self, everything: bool = False) -> int:
        """Write every closed period (with `everything`, the open ones too); answers the points written."""
        if not self.enabled:
            return 0
        async with self._lock:
            now = self.clock.now()
            await self._sample_gauges(now)
            points = self._unwritten + self._take_closed(now, everything)
            self._unwritten = []
            if not points:
                return 0
            try:
                await self.db.write(lambda conn: write_points(conn, points, now))
            except Exception:
                self._unwritten = points[-MAX_UNWRITTEN:]  # written with the next flush
                raise
            return len(points)

    def _take_closed(self, now: float, everything: bool) -> list[Point]:
        closed = [key for key in self._open if everything or key[6] + key[7] <= now]
        points = []
        for key in closed:
            account_id, region, namespace, name, dimensions, unit, start, resolution = key
            series = SeriesKey(account_id, region, namespace, name, dimensions)
            points.append(Point(series, start, resolution, unit, self._open.pop(key)))
        return points

    async def _sample_gauges(self, now: float) -> None:
        """Once per closed period, read every gauge source into the period that just closed."""
        closed = now - now % PERIOD - PERIOD
        if self._sampled_period is not None and closed <= self._sampled_period:
            return
        self._sampled_period = closed
        for name, source in list(self._sources.items()):
            try:
                samples = await source(now)
            except Exception:  # one failing source must not keep the others' metrics from being written
                log.exception("gauge source %s failed", name)
                continue
            for sample in samples:
                key = (sample.account_id, sample.region, sample.namespace, sample.name, sample.dimensions,
                       sample.unit, closed, PERIOD)
                aggregate = self._open.get(key)
                if aggregate is None:
                    aggregate = self._open[key] = Aggregate()
                aggregate.add(sample.value)

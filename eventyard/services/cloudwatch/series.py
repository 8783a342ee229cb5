"""Reading one metric's stored points back as statistics per period.

Shared by GetMetricStatistics, GetMetricData's MetricStat queries and alarm evaluation: points are
read for the series with exactly the given dimensions (as CloudWatch matches them), optionally only
those of one unit, and merged into the slots of the requested period, which start at the rounded
start time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventyard.runtime.metric_store import (
    Aggregate,
    SeriesKey,
    StoredPoint,
    canonical_dimensions,
    find_series,
    read_points,
    slot_totals,
)
from eventyard.storage import Connection

FIFTEEN_DAYS = 15 * 86_400
SIXTY_THREE_DAYS = 63 * 86_400


@dataclass(frozen=True)
class MetricSpec:
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]

    @classmethod
    def from_wire(cls, namespace: str, metric_name: str, dimensions: Sequence[dict[str, str]] | None) -> MetricSpec:
        return cls(namespace, metric_name, canonical_dimensions((d["Name"], d["Value"]) for d in dimensions or ()))

    def key(self, account_id: str, region: str) -> SeriesKey:
        return SeriesKey(account_id, region, self.namespace, self.metric_name, self.dimensions)

    def wire_dimensions(self) -> list[dict[str, str]]:
        return [{"Name": name, "Value": value} for name, value in self.dimensions]


def rounded_start(start: float, now: float, period: int) -> float:
    """CloudWatch rounds a start time down by its age: to the minute under 15 days, to 5 minutes up to
    63 days, to the hour beyond; sub-minute periods round to their own multiple."""
    age = now - start
    if period < 60:
        step = period
    elif age <= FIFTEEN_DAYS:
        step = 60
    elif age <= SIXTY_THREE_DAYS:
        step = 300
    else:
        step = 3600
    return start - start % step


def read_slots(conn: Connection, account_id: str, region: str, spec: MetricSpec, start: float, end: float,
               period: int, unit: str | None = None, with_sketches: bool = True) -> dict[tuple[float, str], Aggregate]:
    """(slot start, unit) -> the merged aggregate of every point in that slot."""
    series_id = find_series(conn, spec.key(account_id, region))
    if series_id is None:
        return {}
    if not with_sketches and float(start).is_integer():
        return {(slot, slot_unit): aggregate
                for slot, slot_unit, aggregate in slot_totals(conn, series_id, int(start), end, period, unit)}
    return merge_into_slots(read_points(conn, [series_id], start, end, with_sketches), start, period, unit)


def merge_into_slots(points: Sequence[StoredPoint], start: float, period: int,
                     unit: str | None = None) -> dict[tuple[float, str], Aggregate]:
    slots: dict[tuple[float, str], Aggregate] = {}
    for point in points:
        if unit is not None and point.unit != unit:
            continue
        slot = start + ((point.period_start - start) // period) * period
        key = (slot, point.unit)
        existing = slots.get(key)
        if existing is None:
            merged = Aggregate(sketch=None if point.aggregate.sketch is None else type(point.aggregate.sketch)())
            merged.merge(point.aggregate)
            slots[key] = merged
        else:
            existing.merge(point.aggregate)
    return slots


def by_slot(slots: dict[tuple[float, str], Aggregate]) -> dict[float, Aggregate]:
    """One aggregate per slot whatever the units (a metric is usually published with one unit)."""
    out: dict[float, Aggregate] = {}
    for (slot, _unit), aggregate in sorted(slots.items()):
        existing = out.get(slot)
        if existing is None:
            copy = Aggregate(sketch=None if aggregate.sketch is None else type(aggregate.sketch)())
            copy.merge(aggregate)
            out[slot] = copy
        else:
            existing.merge(aggregate)
    return out

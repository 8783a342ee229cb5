"""Lambda's CloudWatch metrics (namespace AWS/Lambda), recorded in memory per period.

Per invocation: Invocations, Errors (a function error, handled or not), Duration (ms) or Throttles;
for asynchronous invocations AsyncEventsReceived, AsyncEventAge, AsyncEventsDropped (retries or
event age used up), DeadLetterErrors (the dead-letter queue or topic refused the event) and
DestinationDeliveryFailures (an OnSuccess/OnFailure destination refused the record); for Kinesis
event sources IteratorAge; ConcurrentExecutions is sampled once per period from the worker pool.

Dimensions as AWS publishes them: account-wide (none), FunctionName, and for an invocation of a
version or alias also (FunctionName, Resource=`name:qualifier`), and for an alias
(ExecutedVersion, FunctionName, Resource) with the version the alias ran.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from eventyard.runtime.metric_store import Dimensions
from eventyard.runtime.metrics import GaugeSample, MetricsRecorder
from eventyard.services.lambda_.pool import InvokeResult, Throttled, WorkerPool

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

NAMESPACE = "AWS/Lambda"


class LambdaMetrics:
    def __init__(self, platform: Platform, pool: WorkerPool) -> None:
        self.recorder: MetricsRecorder = platform.metrics
        self.clock = platform.clock
        self.pool = pool
        self.recorder.add_gauge_source("lambda", self._concurrency)

    def _count(self, name: str, value: float, unit: str, account_id: str, region: str, function: str,
               qualifier: str | None = None, executed: str | None = None) -> None:
        for dims in scopes(function, qualifier, executed):
            self.recorder.count(NAMESPACE, name, dims, value, unit, account_id=account_id, region=region)

    def _observe(self, name: str, value: float, unit: str, account_id: str, region: str, function: str,
                 qualifier: str | None = None, executed: str | None = None) -> None:
        for dims in scopes(function, qualifier, executed):
            self.recorder.observe(NAMESPACE, name, dims, value, unit, account_id=account_id, region=region)

    async def measured(self, region: str, account_id: str, function: str, invocation: Awaitable[InvokeResult],
                       qualifier: str | None = None, executed: str | None = None) -> InvokeResult:
        """Run an invocation and record how it went (`executed`: the version the qualifier resolved to)."""
        try:
            result = await invocation
        except Throttled:
            if self.recorder.enabled:
                self._count("Throttles", 1.0, "Count", account_id, region, function, qualifier, executed)
            raise
        if self.recorder.enabled:
            self._count("Invocations", 1.0, "Count", account_id, region, function, qualifier, executed)
            self._count("Errors", 1.0 if result.function_error else 0.0, "Count", account_id, region, function,
                        qualifier, executed)
            self._observe("Duration", result.duration_ms, "Milliseconds", account_id, region, function, qualifier,
                          executed)
        return result

    def async_received(self, region: str, account_id: str, function: str, qualifier: str | None = None) -> None:
        if self.recorder.enabled:
            self._count("AsyncEventsReceived", 1.0, "Count", account_id, region, function, qualifier)

    def async_attempt(self, job: dict[str, Any], now: float) -> None:
        """An asynchronous event is picked up: how long it waited since it was received."""
        if self.recorder.enabled:
            self._observe("AsyncEventAge", max(0.0, now - job["enqueued_at"]) * 1000, "Milliseconds",
                          job["account_id"], job["region"], job["function"], job.get("qualifier"))

    def async_event(self, name: str, job: dict[str, Any]) -> None:
        """AsyncEventsDropped, DeadLetterErrors or DestinationDeliveryFailures for an asynchronous event."""
        if self.recorder.enabled:
            self._count(name, 1.0, "Count", job["account_id"], job["region"], job["function"], job.get("qualifier"))

    def iterator_age(self, region: str, account_id: str, function: str, batch: list[dict[str, Any]],
                     now: float, qualifier: str | None = None) -> None:
        """A stream event source's batch: the age of its last record when the function gets it."""
        if self.recorder.enabled and batch:
            age = max(0.0, now - batch[-1]["ApproximateArrivalTimestamp"]) * 1000
            self._observe("IteratorAge", age, "Milliseconds", account_id, region, function, qualifier)

    async def _concurrency(self, now: float) -> list[GaugeSample]:
        busy: dict[tuple[str, str, str], int] = {}
        for worker in self.pool.workers:
            function = getattr(worker, "function", "") or ""
            parts = function.split(":")
            if len(parts) < 7:
                continue
            key = (parts[4], parts[3], parts[6])  # account, region, function name
            busy.setdefault(key, 0)
            if worker.busy:
                busy[key] += 1
        out: list[GaugeSample] = []
        accounts: dict[tuple[str, str], int] = {}
        for (account, region, function), count in busy.items():
            out.append(GaugeSample(account, region, NAMESPACE, "ConcurrentExecutions", (("FunctionName", function),),
                                   float(count)))
            accounts[(account, region)] = accounts.get((account, region), 0) + count
        for (account, region), count in accounts.items():
            out.append(GaugeSample(account, region, NAMESPACE, "ConcurrentExecutions", (), float(count)))
        return out


def scopes(function: str, qualifier: str | None, executed: str | None) -> tuple[Dimensions, ...]:
    """The dimension sets one invocation's metrics go to (each sorted by name, as series are kept)."""
    named: Dimensions = (("FunctionName", function),)
    if not qualifier:
        return (named, ())
    resource = (("FunctionName", function), ("Resource", f"{function}:{qualifier}"))
    if executed is None or qualifier == executed or qualifier == "$LATEST" or qualifier.isdigit():
        return (named, resource, ())
    return (named, resource, (("ExecutedVersion", executed), *resource), ())

"""Lambda's CloudWatch metrics (namespace AWS/Lambda), recorded in memory per period.

Per invocation: Invocations, Errors (a function error, handled or not), Duration (ms) or Throttles;
for asynchronous invocations AsyncEventsReceived and AsyncEventAge; for Kinesis event sources
IteratorAge; ConcurrentExecutions is sampled once per period from the worker pool. Each is published
with the FunctionName dimension and, as AWS also does, account-wide without dimensions.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

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

    def _count(self, name: str, value: float, unit: str, account_id: str, region: str, function: str) -> None:
        for dims in ((("FunctionName", function),), ()):
            self.recorder.count(NAMESPACE, name, dims, value, unit, account_id=account_id, region=region)

    def _observe(self, name: str, value: float, unit: str, account_id: str, region: str, function: str) -> None:
        for dims in ((("FunctionName", function),), ()):
            self.recorder.observe(NAMESPACE, name, dims, value, unit, account_id=account_id, region=region)

    async def measured(self, region: str, account_id: str, function: str,
                       invocation: Awaitable[InvokeResult]) -> InvokeResult:
        """Run an invocation and record how it went."""
        try:
            result = await invocation
        except Throttled:
            if self.recorder.enabled:
                self._count("Throttles", 1.0, "Count", account_id, region, function)
            raise
        if self.recorder.enabled:
            self._count("Invocations", 1.0, "Count", account_id, region, function)
            self._count("Errors", 1.0 if result.function_error else 0.0, "Count", account_id, region, function)
            self._observe("Duration", result.duration_ms, "Milliseconds", account_id, region, function)
        return result

    def async_received(self, region: str, account_id: str, function: str) -> None:
        if self.recorder.enabled:
            self._count("AsyncEventsReceived", 1.0, "Count", account_id, region, function)

    def async_attempt(self, job: dict[str, Any], now: float) -> None:
        """An asynchronous event is picked up: how long it waited since it was received."""
        if self.recorder.enabled:
            self._observe("AsyncEventAge", max(0.0, now - job["enqueued_at"]) * 1000, "Milliseconds",
                          job["account_id"], job["region"], job["function"])

    def iterator_age(self, region: str, account_id: str, function: str, batch: list[dict[str, Any]],
                     now: float) -> None:
        """A stream event source's batch: the age of its last record when the function gets it."""
        if self.recorder.enabled and batch:
            age = max(0.0, now - batch[-1]["ApproximateArrivalTimestamp"]) * 1000
            self._observe("IteratorAge", age, "Milliseconds", account_id, region, function)

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

"""What the engine needs from the server for one execution: the clock, sleeping by that clock (a
test may move it), and running tasks through the integrations."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from eventyard.asl.model import Engine, TaskRequest
from eventyard.services.stepfunctions.integrations import run_task

if TYPE_CHECKING:
    from eventyard.services.stepfunctions.runner import Runner

POLL = 0.02  # how often a sleeping branch re-reads the (possibly test-advanced) clock


class ServiceHost:
    def __init__(self, runner: Runner, region: str, account: str, execution_arn: str, trace: str | None = None,
                 role_arn: str | None = None) -> None:
        self.runner = runner
        self.role_arn = role_arn  # the execution role its tasks act as toward other accounts' resources
        self.trace = trace  # the X-Amzn-Trace-Id its tasks send (trace.downstream)
        self.region = region
        self.account = account
        self.execution_arn = execution_arn

    def now(self) -> float:
        return self.runner.platform.clock.now()

    async def sleep_until(self, when: float) -> None:
        while True:
            remaining = when - self.now()
            if remaining <= 0:
                return
            await asyncio.sleep(min(POLL if remaining < 1 else 0.2, remaining))

    async def run_task(self, request: TaskRequest, interpreter: Engine) -> Any:
        return await run_task(self, request)

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

    def acting_as(self, role_arn: str, account: str) -> ServiceHost:
        """This execution's host for a task that assumed `role_arn` (Credentials): it calls in `account`."""
        return ServiceHost(self.runner, self.region, account, self.execution_arn, self.trace, role_arn)

    def now(self) -> float:
        return self.runner.platform.clock.now()

    async def sleep_until(self, when: float) -> None:
        while True:
            remaining = when - self.now()
            if remaining <= 0:
                return
            await asyncio.sleep(min(POLL if remaining < 1 else 0.2, remaining))

    async def run_task(self, request: TaskRequest, interpreter: Engine) -> Any:
        token, started = request.task_token, request.on_started
        if token is None or started is None:
            return await run_task(self, request)
        self.runner.activity_workers[token] = started  # GetActivityTask reports the worker taking it
        try:
            return await run_task(self, request)
        finally:
            self.runner.activity_workers.pop(token, None)

    async def resource_exists(self, resource: str) -> bool:
        return await self.runner.platform.db.read(lambda conn: conn.execute(
            "SELECT 1 FROM sfn_activities WHERE arn = ?", (resource,)).fetchone()) is not None

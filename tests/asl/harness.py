"""Runs definitions on the engine alone, with a manual clock: Waits and retry back-offs move the
clock instead of sleeping."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from eventyard.asl import definition as asl_definition
from eventyard.asl import execution
from eventyard.asl.history import History, Lane
from eventyard.asl.interpreter import Interpreter
from eventyard.asl.model import Engine, TaskRequest
from eventyard.runtime.clock import ManualClock

TaskFn = Callable[[TaskRequest], Awaitable[Any]]


@dataclass
class ManualHost:
    clock: ManualClock = field(default_factory=ManualClock)
    tasks: dict[str, TaskFn] = field(default_factory=dict)
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.clock.now()

    async def sleep_until(self, when: float) -> None:
        delay = when - self.clock.now()
        if delay > 0:
            self.sleeps.append(round(delay, 6))
            self.clock.advance(delay)
        await asyncio.sleep(0)

    async def run_task(self, request: TaskRequest, interpreter: Engine) -> Any:
        fn = self.tasks.get(request.resource)
        if fn is None:
            raise AssertionError(f"no fake for {request.resource}")
        return await fn(request)

    async def resource_exists(self, resource: str) -> bool:
        return resource in self.tasks


@dataclass
class Result:
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.events]


def run(definition: dict[str, Any] | str, input_: Any = None, host: ManualHost | None = None) -> Result:
    host = host or ManualHost()
    text = definition if isinstance(definition, str) else json.dumps(definition)
    parsed = asl_definition.parse(text)
    input_text = json.dumps({} if input_ is None else input_)
    history = History(host.now)
    context = {"Id": "arn:aws:states:us-east-1:000000000000:execution:m:e", "Input": json.loads(input_text),
               "Name": "e", "RoleArn": "arn:aws:iam::000000000000:role/r", "StartTime": "2024-01-01T00:00:00Z",
               "RedriveCount": 0}
    interp = Interpreter(parsed, context,
        {"Id": "arn:aws:states:us-east-1:000000000000:stateMachine:m", "Name": "m"}, host, history,
        token_factory=lambda: "token-1")
    lane = Lane()
    execution.record_start(interp, input_text, "arn:aws:iam::000000000000:role/r", lane)
    outcome = asyncio.run(execution.run(interp, parsed["StartAt"], json.loads(input_text), {}, lane))
    return Result(outcome.status, outcome.output, outcome.error, outcome.cause, history.events)

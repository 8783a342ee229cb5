"""A run of top-level states without effects (Pass, Choice, Succeed, Fail) runs in memory and
commits once: at the next state with an effect or a wait, or at the end. Counted in-process on the
storage's writes, with the stepfunctions service on a real (temporary) database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from eventyard.config import Settings
from eventyard.server.platform import Platform
from eventyard.services import stepfunctions
from tests.stepfunctions.conftest import ROLE


def chain(length: int) -> dict[str, Any]:
    """Pass and Choice states alternating, `length` states in all, the last one a Succeed."""
    states: dict[str, Any] = {}
    for i in range(length - 1):
        nxt = f"S{i + 1}"
        if i % 2:
            states[f"S{i}"] = {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": -1,
                                                               "Next": nxt}], "Default": nxt}
        else:
            states[f"S{i}"] = {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": nxt}
    states[f"S{length - 1}"] = {"Type": "Succeed"}
    return {"StartAt": "S0", "States": states}


async def with_platform(tmp: Path, body: Callable[[Platform, Callable[..., Awaitable[Any]]], Awaitable[None]]) -> None:
    platform = Platform(Settings(data_dir=tmp), [stepfunctions.create_service])
    await platform.start()

    async def call(operation: str, **params: Any) -> Any:
        return await platform.call("stepfunctions", operation, params, region="us-east-1")

    try:
        await body(platform, call)
    finally:
        await platform.stop()


def count_writes(platform: Platform) -> list[int]:
    """The runner's commits (not the timer service's claims, which share the database)."""
    writes = [0]
    original = platform.db.write

    async def counted(fn: Any) -> Any:
        if getattr(fn, "__qualname__", "").startswith(("Runner.", "ExecutionDriver.")):
            writes[0] += 1
        return await original(fn)

    platform.db.write = counted  # type: ignore[method-assign]
    return writes


async def history(call: Callable[..., Awaitable[Any]], arn: str) -> list[dict[str, Any]]:
    """Every event, page by page (an endless loop easily has more than one page of 1,000)."""
    events: list[dict[str, Any]] = []
    params: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = await call("GetExecutionHistory", **params)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        params["nextToken"] = page["nextToken"]


def test_a_20_state_pass_choice_chain_commits_once(tmp_path: Path) -> None:
    async def body(platform: Platform, call: Callable[..., Awaitable[Any]]) -> None:
        machine = (await call("CreateStateMachine", name="chain", roleArn=ROLE,
                              definition=json.dumps(chain(20))))["stateMachineArn"]
        writes = count_writes(platform)
        runner = platform.services["stepfunctions"].provider.runner  # type: ignore[attr-defined]
        arn = (await call("StartExecution", stateMachineArn=machine, input='{"n": 0}'))["executionArn"]
        await runner.wait_done(arn)
        assert writes[0] == 1  # the end: every state's events and the result in one commit
        described = await call("DescribeExecution", executionArn=arn)
        assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"n": 10}
        events = await history(call, arn)
        assert [e["id"] for e in events] == list(range(1, 2 + 20 * 2 + 1))
        assert events[-1]["type"] == "ExecutionSucceeded"
        assert [e["previousEventId"] for e in events[1:]] == [0] + list(range(2, len(events)))

    asyncio.run(with_platform(tmp_path, body))


def test_a_long_loop_of_pure_states_commits_in_bounded_runs(tmp_path: Path) -> None:
    from eventyard.services.stepfunctions.driver import MAX_DEFERRED

    definition = {"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "More?"},
        "More?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 150, "Next": "Count"}],
                  "Default": "Done"},
        "Done": {"Type": "Succeed"}}}

    async def body(platform: Platform, call: Callable[..., Awaitable[Any]]) -> None:
        machine = (await call("CreateStateMachine", name="loop", roleArn=ROLE,
                              definition=json.dumps(definition)))["stateMachineArn"]
        writes = count_writes(platform)
        runner = platform.services["stepfunctions"].provider.runner  # type: ignore[attr-defined]
        arn = (await call("StartExecution", stateMachineArn=machine, input='{"n": 0}'))["executionArn"]
        await runner.wait_done(arn)
        transitions = 150 * 2 + 1
        assert writes[0] == transitions // (MAX_DEFERRED + 1) + 1
        described = await call("DescribeExecution", executionArn=arn)
        assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"n": 150}
        events = await history(call, arn)
        assert [e["id"] for e in events] == list(range(1, 2 + transitions * 2 + 1))

    asyncio.run(with_platform(tmp_path, body))


def test_stop_execution_ends_an_endless_loop_of_pure_states(tmp_path: Path) -> None:
    definition = {"StartAt": "Ping", "States": {
        "Ping": {"Type": "Pass", "Next": "Pong"},
        "Pong": {"Type": "Pass", "Next": "Ping"}}}

    async def body(platform: Platform, call: Callable[..., Awaitable[Any]]) -> None:
        machine = (await call("CreateStateMachine", name="endless", roleArn=ROLE,
                              definition=json.dumps(definition)))["stateMachineArn"]
        runner = platform.services["stepfunctions"].provider.runner  # type: ignore[attr-defined]
        arn = (await call("StartExecution", stateMachineArn=machine, input="{}"))["executionArn"]
        while len(await history(call, arn)) < 300:  # it commits now and then, and the server answers
            await asyncio.sleep(0.01)
        await call("StopExecution", executionArn=arn, error="Enough")
        await runner.wait_done(arn)
        await asyncio.sleep(0.05)
        described = await call("DescribeExecution", executionArn=arn)
        assert described["status"] == "ABORTED" and described["error"] == "Enough"
        events = await history(call, arn)
        assert events[-1]["type"] == "ExecutionAborted"
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        assert events[-1]["previousEventId"] == 0  # AWS's ExecutionAborted names no previous event

    asyncio.run(with_platform(tmp_path, body))

"""A StopExecution committed before one of the driver's commits wins, whatever the commit is: the
top level's, a Map iteration's or a Parallel branch's (a unit's), or one carrying a task token.
The races are forced, not waited for: the driver's commit is held until the StopExecution's
transaction is queued in front of it, so the storage runs the stop first every time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from eventyard.server.platform import Platform
from tests.stepfunctions.conftest import ROLE
from tests.stepfunctions.test_batching import history, with_platform

DRIVER_MODULES = ("eventyard.services.stepfunctions.runner", "eventyard.services.stepfunctions.driver")


def _is_driver_commit(fn: Any, marker: str) -> bool:
    return getattr(fn, "__module__", "") in DRIVER_MODULES and marker in getattr(fn, "__qualname__", "")


def stop_before_driver_commit(platform: Platform, call: Callable[..., Awaitable[Any]], marker: str,
                              arn: list[str]) -> list[Any]:
    """Hold the driver's first commit whose function's name contains `marker` until a StopExecution
    of `arn[0]` has been queued ahead of it. Returns what that commit answered (True: written)."""
    original = platform.db.write
    answered: list[Any] = []
    stop_queued = asyncio.Event()
    armed = [True]

    async def gated(fn: Any) -> Any:
        if "stop_execution." in getattr(fn, "__qualname__", ""):
            queued = asyncio.ensure_future(original(fn))
            await asyncio.sleep(0)  # the write is in the storage's queue once the task has started
            stop_queued.set()
            return await queued
        if armed[0] and _is_driver_commit(fn, marker):
            armed[0] = False
            asyncio.ensure_future(call("StopExecution", executionArn=arn[0], error="Enough"))
            await stop_queued.wait()

            def recorded(conn: Any) -> Any:
                answered.append(fn(conn))
                return answered[-1]

            return await original(recorded)
        return await original(fn)

    platform.db.write = gated  # type: ignore[method-assign]
    return answered


async def rows(platform: Platform, table: str, arn: str) -> list[Any]:
    return await platform.db.read(lambda conn: conn.execute(
        f"SELECT * FROM {table} WHERE execution_arn = ?", (arn,)).fetchall())


async def ended_by_the_stop(platform: Platform, call: Callable[..., Awaitable[Any]], arn: str) -> None:
    runner = platform.services["stepfunctions"].provider.runner  # type: ignore[attr-defined]
    for _ in range(3000):  # the driver was cancelled by the stop: it ends at its next await
        if arn not in runner.running:
            break
        await asyncio.sleep(0.01)
    described = await call("DescribeExecution", executionArn=arn)
    assert described["status"] == "ABORTED" and described["error"] == "Enough"
    events = await history(call, arn)
    assert events[-1]["type"] == "ExecutionAborted"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert await rows(platform, "sfn_units", arn) == []
    assert await rows(platform, "sfn_task_tokens", arn) == []


async def start(call: Callable[..., Awaitable[Any]], definition: dict[str, Any], arn: list[str]) -> str:
    machine = (await call("CreateStateMachine", name="racing", roleArn=ROLE,
                          definition=json.dumps(definition)))["stateMachineArn"]
    arn.append((await call("StartExecution", stateMachineArn=machine, input="{}"))["executionArn"])
    return arn[0]


def run(tmp_path: Path, marker: str, definition: dict[str, Any]) -> None:
    async def body(platform: Platform, call: Callable[..., Awaitable[Any]]) -> None:
        arn: list[str] = []
        answered = stop_before_driver_commit(platform, call, marker, arn)
        await start(call, definition, arn)
        for _ in range(3000):
            if answered:
                break
            await asyncio.sleep(0.01)
        assert answered == [False]  # the driver's commit ran after the stop, and wrote nothing
        await ended_by_the_stop(platform, call, arn[0])

    asyncio.run(with_platform(tmp_path, body))


def test_a_top_level_commit_after_a_committed_stop_is_dropped(tmp_path: Path) -> None:
    run(tmp_path, "on_transition", {"StartAt": "Ping", "States": {
        "Ping": {"Type": "Pass", "Next": "Pong"},
        "Pong": {"Type": "Pass", "Next": "Ping"}}})


def test_a_map_iteration_commit_after_a_committed_stop_is_dropped(tmp_path: Path) -> None:
    run(tmp_path, "save_unit", {"StartAt": "Items", "States": {
        "Items": {"Type": "Pass", "Result": {"items": [1, 2, 3]}, "Next": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Nap",
            "States": {"Nap": {"Type": "Wait", "Seconds": 100000, "End": True}}}}}})


def test_a_parallel_branch_commit_after_a_committed_stop_is_dropped(tmp_path: Path) -> None:
    run(tmp_path, "save_unit", {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}}})


def test_a_unit_token_is_not_handed_out_after_a_committed_stop(tmp_path: Path) -> None:
    async def body(platform: Platform, call: Callable[..., Awaitable[Any]]) -> None:
        activity = (await call("CreateActivity", name="worker"))["activityArn"]
        arn: list[str] = []
        answered = stop_before_driver_commit(platform, call, "save_unit", arn)
        await start(call, {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}}]}}}, arn)
        for _ in range(3000):
            if answered:
                break
            await asyncio.sleep(0.01)
        assert answered == [False]
        await ended_by_the_stop(platform, call, arn[0])
        runner = platform.services["stepfunctions"].provider.runner  # type: ignore[attr-defined]
        queue = runner.activity_queues.get(activity)
        assert queue is None or queue.empty()  # no worker can be handed the token

    asyncio.run(with_platform(tmp_path, body))


def test_a_driver_whose_commit_is_refused_ends_by_itself(tmp_path: Path) -> None:
    """A stop served elsewhere (another node) cancels nothing here: the driver's next commit is
    refused, and the driver ends instead of running its loop in memory for ever."""
    async def body(platform: Platform, call: Callable[..., Awaitable[Any]]) -> None:
        runner = platform.services["stepfunctions"].provider.runner  # type: ignore[attr-defined]
        arn = await start(call, {"StartAt": "Ping", "States": {
            "Ping": {"Type": "Pass", "Next": "Pong"}, "Pong": {"Type": "Pass", "Next": "Ping"}}}, [])
        while len(await history(call, arn)) < 10:
            await asyncio.sleep(0.01)
        task = runner.running.pop(arn)  # what another node's StopExecution sees: no local driver
        await call("StopExecution", executionArn=arn, error="Enough")
        runner.running[arn] = task
        await asyncio.wait_for(asyncio.shield(task), timeout=60)
        assert not task.cancelled()
        await ended_by_the_stop(platform, call, arn)

    asyncio.run(with_platform(tmp_path, body))

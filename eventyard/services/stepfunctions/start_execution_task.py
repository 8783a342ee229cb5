"""`arn:aws:states:::states:startExecution` (and `.sync`, `.sync:2`): start a child execution and
answer as AWS does: the StartExecution answer with the Java SDK's metadata, or, for `.sync`, the
child's DescribeExecution once it ends. A `.sync` task also ends when its own task token (`$$.Task.Token`,
which it may hand on) gets a SendTaskSuccess/Failure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from eventyard.asl.errors import StatesError
from eventyard.services.stepfunctions import sdk_metadata

if TYPE_CHECKING:
    from eventyard.services.stepfunctions.host import ServiceHost

Call = Callable[[str, str, Any, str], Awaitable[Any]]  # (service, action, params, error prefix)

POLL = 0.05  # how often a .sync task reads its child's status

# What a .sync task answers of DescribeExecution (the Java SDK's names), in this order
SYNC_FIELDS = (("executionArn", "ExecutionArn"), ("input", "Input"), ("inputDetails", "InputDetails"),
               ("name", "Name"), ("output", "Output"), ("outputDetails", "OutputDetails"),
               ("redriveCount", "RedriveCount"), ("redriveStatus", "RedriveStatus"),
               ("redriveStatusReason", "RedriveStatusReason"), ("startDate", "StartDate"),
               ("stateMachineArn", "StateMachineArn"), ("status", "Status"), ("stopDate", "StopDate"),
               ("error", "Error"), ("cause", "Cause"))


def _stringified_input(params: dict[str, Any]) -> dict[str, Any]:
    # a null Input is no input (the child starts with {}); a JSON Input is sent as its text
    out = {k: v for k, v in params.items() if not (k == "Input" and v is None)}
    if "Input" in out and not isinstance(out["Input"], str):
        out["Input"] = json.dumps(out["Input"], separators=(",", ":"))
    return out


def _millis(value: Any) -> Any:
    return round(float(value) * 1000) if isinstance(value, (int, float)) else value


async def start_execution(host: ServiceHost, call: Call, action: str, params: dict[str, Any],
                          token: str | None, submitted: Callable[[Any], None] | None = None) -> Any:
    started = await call("stepfunctions", "StartExecution", _stringified_input(params), "StepFunctions")
    answer = sdk_metadata.with_sdk_metadata(
        host, {"ExecutionArn": started["executionArn"], "StartDate": _millis(started["startDate"])},
        "application/x-amz-json-1.0", sdk_metadata.start_execution_length)
    if action == "startExecution":
        return answer
    if submitted is not None:  # AWS: TaskSubmitted carries the StartExecution answer
        submitted(answer)
    follow = asyncio.ensure_future(_follow(call, started["executionArn"], parsed=action.endswith(":2")))
    if token is None:
        return await follow
    return await _first_of(host, follow, token)


async def _first_of(host: ServiceHost, follow: asyncio.Future[Any], token: str) -> Any:
    """The child's end or an answer to the task's token, whichever comes first."""
    answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    host.runner.tokens[token] = (answered, host.execution_arn)
    try:
        await asyncio.wait({follow, answered}, return_when=asyncio.FIRST_COMPLETED)
        return answered.result() if answered.done() else follow.result()
    finally:
        host.runner.tokens.pop(token, None)
        follow.cancel()


async def _follow(call: Call, execution_arn: str, parsed: bool) -> Any:
    """Follow the child execution to its end: its description, or a failure whose cause is it."""
    while True:
        described = await call("stepfunctions", "DescribeExecution", {"executionArn": execution_arn},
                               "StepFunctions")
        if described["status"] != "RUNNING":
            break
        await asyncio.sleep(POLL)
    result = sync_result(described, parsed)
    if described["status"] != "SUCCEEDED":
        raise StatesError("States.TaskFailed", json.dumps(result, separators=(",", ":")))
    return result


def sync_result(described: dict[str, Any], parsed: bool) -> dict[str, Any]:
    """DescribeExecution as a .sync task answers it; .sync:2 parses Input and Output."""
    out: dict[str, Any] = {}
    for source, name in SYNC_FIELDS:
        if source not in described:
            continue
        value = described[source]
        if source in ("inputDetails", "outputDetails"):
            value = {"Included": value.get("included", True)}
        elif source in ("startDate", "stopDate"):
            value = _millis(value)
        elif source in ("input", "output") and parsed and isinstance(value, str):
            value = json.loads(value)
        out[name] = value
    return out

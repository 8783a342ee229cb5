"""One execution from start to end: ExecutionStarted, the states, then Succeeded or Failed.

The service drives STANDARD executions through `resume` after a durable Wait or a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventyard.asl.errors import StatesError
from eventyard.asl.history import Lane
from eventyard.asl.interpreter import Interpreter
from eventyard.asl.model import Suspend
from eventyard.asl.templates import to_json


@dataclass
class Outcome:
    status: str  # SUCCEEDED | FAILED | RUNNING (suspended at a durable Wait)
    output: Any = None
    error: str | None = None
    cause: str | None = None


def record_start(interp: Interpreter, input_text: str, role_arn: str, lane: Lane) -> None:
    interp.history.add(lane, "ExecutionStarted", "executionStartedEventDetails",
                       {"input": input_text, "inputDetails": {"truncated": False}, "roleArn": role_arn})
    lane.last = 0  # AWS: the first state's events do not point back at ExecutionStarted


async def run(interp: Interpreter, start: str, input_: Any, variables: dict[str, Any], lane: Lane) -> Outcome:
    """Run from `start` to the end (or a Suspend), recording the terminal event."""
    try:
        output = await interp.run_from(start, input_, variables, lane)
    except Suspend:
        return Outcome("RUNNING")
    except Exception as exc:  # noqa: BLE001 - an engine bug must fail the execution, not leave it RUNNING
        if not isinstance(exc, StatesError):
            exc = StatesError("States.Runtime", f"{type(exc).__name__}: {exc}")
        err = exc
        details: dict[str, Any] = {}
        if err.error is not None:
            details["error"] = err.error
        if err.cause is not None:
            details["cause"] = err.cause
        interp.history.add(lane, "ExecutionFailed", "executionFailedEventDetails", details)
        return Outcome("FAILED", None, err.error, err.cause)
    interp.history.add(lane, "ExecutionSucceeded", "executionSucceededEventDetails",
                       {"output": to_json(output), "outputDetails": {"truncated": False}})
    return Outcome("SUCCEEDED", output)

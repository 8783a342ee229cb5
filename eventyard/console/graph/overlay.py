"""An execution drawn on its state machine: each state's status, read from GetExecutionHistory.

Every history event follows its `previousEventId` along one lane (the execution, a Parallel branch,
a Map iteration), so an event belongs to the state whose `...StateEntered` its lane last saw.
A state is *running* once entered and not yet exited, *succeeded* when it exited cleanly, *caught*
when an error happened in it and a Catch led on (it exited after a failure event), and *failed*
when an error in it ended the execution (or it is a Fail state that was entered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RANK = {"succeeded": 0, "running": 1, "caught": 2, "failed": 3}


@dataclass
class StateRun:
    status: str = "running"
    entered: int = 0  # how many times (retries of a loop, Map iterations)
    errors: list[str] = field(default_factory=list)
    input: str | None = None
    output: str | None = None
    failed_inside: bool = False  # a failure event happened since the last entry


@dataclass
class ExecutionOverlay:
    states: dict[str, StateRun] = field(default_factory=dict)  # by state name
    transitions: set[tuple[str, str]] = field(default_factory=set)  # (from state, to state) taken


def _failure(event: dict[str, Any]) -> str | None:
    kind = event["type"]
    if not (kind.endswith("Failed") or kind.endswith("TimedOut") or kind.endswith("Aborted")):
        return None
    if kind.startswith("Execution"):
        return None
    details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
    return str(details.get("error") or kind)


def overlay(history: list[dict[str, Any]], execution_status: str) -> ExecutionOverlay:
    result = ExecutionOverlay()
    state_of: dict[int, str | None] = {}  # event id -> state whose lane it is in
    exited_from: dict[int, str] = {}  # event id of a ...StateExited -> the state's name
    for event in history:
        event_id, previous = int(event["id"]), int(event.get("previousEventId") or 0)
        current = state_of.get(previous)
        kind = event["type"]
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            run = result.states.setdefault(name, StateRun())
            run.entered += 1
            run.failed_inside = False
            run.status = _worse(run.status, "running") if run.entered > 1 else "running"
            run.input = event["stateEnteredEventDetails"].get("input")
            if previous in exited_from:
                result.transitions.add((exited_from[previous], name))
            elif current is not None and current != name:
                result.transitions.add((current, name))  # e.g. a Parallel entering its branch's first state
            if kind == "FailStateEntered":
                run.status = "failed"
            state_of[event_id] = name
            continue
        if kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            run = result.states.setdefault(name, StateRun())
            run.output = event["stateExitedEventDetails"].get("output")
            run.status = _settle(run)
            exited_from[event_id] = name
            state_of[event_id] = None
            continue
        state_of[event_id] = current
        if current is None:
            continue
        error = _failure(event)
        if error is not None:
            result.states[current].errors.append(error)
            result.states[current].failed_inside = True
        elif kind.endswith("Succeeded"):  # a retry that worked: the state did not fail after all
            result.states[current].failed_inside = False
    _finish(result, execution_status)
    return result


def _settle(run: StateRun) -> str:
    """A state exits: caught if an error happened in it since it was entered, else succeeded —
    unless an earlier pass (another Map iteration, an earlier loop) already went worse."""
    outcome = "caught" if run.failed_inside else "succeeded"
    if run.entered > 1 and run.status != "running":
        return _worse(run.status, outcome)
    return outcome


def _worse(a: str, b: str) -> str:
    return a if RANK.get(a, 0) >= RANK.get(b, 0) else b


def _finish(result: ExecutionOverlay, execution_status: str) -> None:
    """States still open when the execution ended: the error in them ended it (failed); without an
    error they were cut short (stopped, timed out) — shown failed too, except while it runs."""
    if execution_status == "RUNNING":
        return
    for run in result.states.values():
        if run.status == "running":
            run.status = "failed" if (run.failed_inside or execution_status != "SUCCEEDED") else "succeeded"

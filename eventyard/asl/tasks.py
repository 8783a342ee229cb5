"""The Task state: build the request (Parameters/Arguments), hand it to the host, bound it by
TimeoutSeconds, record AWS's Task* history events and process the result."""

from __future__ import annotations

import asyncio
from typing import Any

from eventyard.asl import templates
from eventyard.asl.errors import StatesError
from eventyard.asl.model import Checkpoint, Engine, Frame, StateOutcome, TaskRequest
from eventyard.asl.templates import Scope, to_json


def resource_type(resource: str) -> tuple[str, str]:
    """(resourceType, resource) as history events name them: `lambda`/`invoke`, `sqs`/`sendMessage`..."""
    parts = resource.split(":")
    if resource.startswith("arn:aws:states:::") and len(parts) >= 7:
        service = parts[5]
        rest = ":".join(parts[6:])
        if service == "aws-sdk":
            return f"aws-sdk:{parts[6]}", ":".join(parts[7:])
        return service, rest
    if len(parts) > 5 and parts[2] == "lambda":
        return "lambda", "invoke"
    if len(parts) > 5 and parts[5] == "activity":
        return "activity", resource
    return parts[2] if len(parts) > 2 else "unknown", resource


def _seconds(state: dict[str, Any], key: str, effective: Any, scope: Scope, jsonata: bool) -> float | None:
    if key in state:
        value = state[key]
        if jsonata and isinstance(value, str):
            value = templates.jsonata_value(value, scope, {"input": scope.input, "context": scope.context}, key)
        return float(value)
    if f"{key}Path" in state:
        value = templates.select_field(state[f"{key}Path"], effective, scope, f"{key}Path")
        return float(value)
    return None


async def run_task(interp: Engine, frame: Frame, name: str, state: dict[str, Any], raw: Any,
                   scope: Scope, jsonata: bool) -> StateOutcome:
    resource = state["Resource"]
    if jsonata and isinstance(resource, str) and resource.startswith("{%"):
        resource = templates.jsonata_value(resource, scope, interp.states_var(scope, raw), "Resource")
    kind, short = resource_type(resource)
    waits_for_token = resource.endswith(".waitForTaskToken") or kind == "activity"

    async def attempt(scope: Scope) -> Any:
        # After a restart, a top-level task that was waiting for its token picks up the same token.
        resumed = frame.picked_up if frame.picked_up and frame.picked_up.get("kind") == "task" else None
        if resumed is not None:
            frame.picked_up = None
        token = None
        context = dict(scope.context)
        if waits_for_token:
            token = resumed["token"] if resumed else interp.token_factory() if interp.token_factory else None
            context["Task"] = {"Token": token}
        task_scope = Scope(raw, context, scope.variables, scope.state_name, scope.entered_event_id)
        if jsonata:
            states = interp.states_var(task_scope, raw)
            parameters = templates.jsonata_value(state["Arguments"], task_scope, states, "Arguments") \
                if "Arguments" in state else raw
            effective = raw
        else:
            effective = interp.input_path(state, raw, task_scope)
            parameters = templates.payload(state["Parameters"], effective, task_scope) \
                if "Parameters" in state else effective
        timeout = _seconds(state, "TimeoutSeconds", effective, task_scope, jsonata)
        heartbeat = _seconds(state, "HeartbeatSeconds", effective, task_scope, jsonata)
        scheduled: dict[str, Any] = {"resourceType": kind, "resource": short, "region": interp.region,
                                     "parameters": to_json(parameters)}
        if timeout is not None:
            scheduled["timeoutInSeconds"] = int(timeout)
        if heartbeat is not None:
            scheduled["heartbeatInSeconds"] = int(heartbeat)
        if not resumed:
            interp.history.add(frame.lane, "TaskScheduled", "taskScheduledEventDetails", scheduled)
            interp.history.add(frame.lane, "TaskStarted", "taskStartedEventDetails",
                               {"resourceType": kind, "resource": short})
        started_at = resumed["started_at"] if resumed else interp.host.now()
        request = TaskRequest(resource, parameters, name, timeout, heartbeat, token, context, frame.lane,
                              state.get("Credentials"), started_at, resumed is not None)
        if token is not None and not resumed and frame.hooks is not None:
            progress = dict(frame.progress or {})
            await frame.hooks.task(Checkpoint(name, raw, frame.variables, resume={
                **progress, "kind": "task", "token": token, "started_at": started_at}), request)
        try:
            result = await _bounded(interp, request, timeout)
        except StatesError as err:
            details: dict[str, Any] = {"resourceType": kind, "resource": short}
            if err.error is not None:
                details["error"] = err.error
            if err.cause is not None:
                details["cause"] = err.cause
            timed_out = err.error in ("States.Timeout", "States.HeartbeatTimeout")
            interp.history.add(frame.lane, "TaskTimedOut" if timed_out else "TaskFailed",
                               "taskTimedOutEventDetails" if timed_out else "taskFailedEventDetails", details)
            raise
        interp.history.add(frame.lane, "TaskSucceeded", "taskSucceededEventDetails",
                           {"resourceType": kind, "resource": short, "output": to_json(result),
                            "outputDetails": {"truncated": False}})
        return result

    def finish(result: Any, scope: Scope) -> tuple[Any, dict[str, Any] | None]:
        return interp.finish_selected(state, raw, result, scope, jsonata)

    return await interp.with_error_handling(frame, name, state, raw, scope, jsonata, attempt, finish)


async def _bounded(interp: Engine, request: TaskRequest, timeout: float | None) -> Any:
    work = asyncio.ensure_future(interp.host.run_task(request, interp))
    if timeout is None:
        return await work
    started = request.started_at if request.started_at is not None else interp.host.now()
    deadline = asyncio.ensure_future(interp.host.sleep_until(started + timeout))
    try:
        done, _ = await asyncio.wait({work, deadline}, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            return work.result()
        raise StatesError("States.Timeout", None)
    finally:
        work.cancel()
        deadline.cancel()

"""The Task state: build the request (Parameters/Arguments), hand it to the host, bound it by
TimeoutSeconds, record AWS's Task* history events and process the result."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from eventyard.asl import templates
from eventyard.asl.errors import StatesError
from eventyard.asl.model import MAX_PAYLOAD, Checkpoint, Engine, Frame, StateOutcome, TaskRequest
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


def is_lambda_function(resource: str) -> bool:
    """A plain Lambda function ARN as Resource (AWS records LambdaFunction* events for it)."""
    parts = resource.split(":")
    return len(parts) > 6 and parts[2] == "lambda" and parts[5] == "function"


def _limits(details: dict[str, Any], timeout: float | None, heartbeat: float | None) -> dict[str, Any]:
    if timeout is not None:
        details["timeoutInSeconds"] = int(timeout)
    if heartbeat is not None:
        details["heartbeatInSeconds"] = int(heartbeat)
    return details


class TaskEvents:
    """The history events of one Task attempt: Task* events, LambdaFunction* ones for a plain
    Lambda function ARN, Activity* ones for an activity ARN."""

    def __init__(self, interp: Engine, frame: Frame, resource: str) -> None:
        self.interp, self.lane = interp, frame.lane
        self.resource = resource
        self.kind, self.short = resource_type(resource)
        self.legacy_lambda = is_lambda_function(resource)
        # The event family AWS records: LambdaFunction*, Activity* or Task*.
        self.prefix = "LambdaFunction" if self.legacy_lambda else "Activity" if self.kind == "activity" else "Task"

    def _add(self, stage: str, details: dict[str, Any] | None = None) -> None:
        key = f"{self.prefix[0].lower()}{self.prefix[1:]}{stage}EventDetails"
        self.interp.history.add(self.lane, f"{self.prefix}{stage}", None if details is None else key, details)

    def scheduled(self, parameters: Any, timeout: float | None, heartbeat: float | None,
                  role_arn: str | None = None) -> None:
        """The Scheduled event (with the task's Credentials role as `taskCredentials`), and Started
        except for an activity (that one starts when a worker takes it: `activity_started`)."""
        credentials = {} if role_arn is None else {"taskCredentials": {"roleArn": role_arn}}
        if self.prefix != "Task":
            details = {"input": to_json(parameters), "inputDetails": {"truncated": False}, "resource": self.resource}
            # AWS records no HeartbeatSeconds for a Lambda function task.
            self._add("Scheduled", {**_limits(details, timeout, None if self.legacy_lambda else heartbeat),
                                    **credentials})
            if self.legacy_lambda:
                self._add("Started")
            return
        scheduled: dict[str, Any] = {"resourceType": self.kind, "resource": self.short, "region": self.interp.region,
                                     "parameters": to_json(parameters), **credentials}
        self.interp.history.add(self.lane, "TaskScheduled", "taskScheduledEventDetails",
                                _limits(scheduled, timeout, heartbeat))
        self.interp.history.add(self.lane, "TaskStarted", "taskStartedEventDetails",
                                {"resourceType": self.kind, "resource": self.short})

    def submitted(self, output: Any) -> None:
        """A .waitForTaskToken call went out; the state now waits for its token."""
        self.interp.history.add(self.lane, "TaskSubmitted", "taskSubmittedEventDetails", {
            "resourceType": self.kind, "resource": self.short, "output": to_json(output),
            "outputDetails": {"truncated": False}})

    def activity_started(self, worker_name: str | None) -> None:
        """A worker took the activity task (GetActivityTask, with its workerName if it gave one)."""
        self._add("Started", {} if worker_name is None else {"workerName": worker_name})

    def _resource_fields(self) -> dict[str, Any]:
        return {"resourceType": self.kind, "resource": self.short} if self.prefix == "Task" else {}

    def failed(self, err: StatesError) -> None:
        details = self._resource_fields()
        if err.error is not None:
            details["error"] = err.error
        if err.cause is not None:
            details["cause"] = err.cause
        timed_out = err.error in ("States.Timeout", "States.HeartbeatTimeout")
        self._add("TimedOut" if timed_out else "Failed", details)

    def succeeded(self, result: Any) -> None:
        self._add("Succeeded", {**self._resource_fields(), "output": to_json(result),
                                "outputDetails": {"truncated": False}})

    def check_size(self, result: Any) -> None:
        """AWS: a task result over 256 KiB fails the task (a Catch on States.ALL takes it)."""
        if len(to_json(result).encode()) > MAX_PAYLOAD:
            who = self.resource if self.legacy_lambda else self.kind
            raise StatesError("States.DataLimitExceeded", f"The state/task '{who}' returned a result with a size "
                              "exceeding the maximum number of bytes service limit.", matched_by_all=True)


async def run_task(interp: Engine, frame: Frame, name: str, state: dict[str, Any], raw: Any,
                   scope: Scope, jsonata: bool) -> StateOutcome:
    resource = state["Resource"]
    if jsonata and isinstance(resource, str) and resource.startswith("{%"):
        resource = templates.jsonata_value(resource, scope, interp.states_var(scope, raw), "Resource")
    events = TaskEvents(interp, frame, resource)
    waits_for_token = resource.endswith(".waitForTaskToken") or events.kind == "activity"

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
        elif ".sync" in resource and interp.token_factory:  # AWS gives a .sync task a token it does not wait for
            context["Task"] = {"Token": interp.token_factory()}
        task_scope = Scope(raw, context, scope.variables, scope.state_name, scope.entered_event_id)
        parameters, effective = _parameters(interp, state, raw, task_scope, jsonata)
        timeout = _seconds(state, "TimeoutSeconds", effective, task_scope, jsonata)
        heartbeat = _seconds(state, "HeartbeatSeconds", effective, task_scope, jsonata)
        role_arn = _role_arn(interp, state, raw, effective, task_scope, jsonata)
        if events.kind == "activity" and not resumed and not await interp.host.resource_exists(resource):
            raise task_scope.runtime_error(f"The activity {resource} does not exist.")
        if not resumed:
            events.scheduled(parameters, timeout, heartbeat, role_arn)
        started_at = resumed["started_at"] if resumed else interp.host.now()
        request = TaskRequest(resource, parameters, name, timeout, heartbeat, token, context, frame.lane,
                              role_arn, started_at, resumed is not None)
        if resource.endswith(".waitForTaskToken") or ".sync" in resource:
            request.on_submitted = events.submitted
        if events.kind == "activity":
            request.on_started = _activity_started(events, frame)
        if token is not None and not resumed and frame.hooks is not None:
            progress = dict(frame.progress or {})
            await frame.hooks.task(Checkpoint(name, raw, frame.variables, resume={
                **progress, "kind": "task", "token": token, "started_at": started_at}), request)
        try:
            result = await _run_or_mock(interp, request, timeout)
            events.check_size(result)
        except StatesError as err:
            events.failed(err)
            raise
        events.succeeded(result)
        return result

    def finish(result: Any, scope: Scope) -> tuple[Any, dict[str, Any] | None]:
        return interp.finish_selected(state, raw, result, scope, jsonata)

    return await interp.with_error_handling(frame, name, state, raw, scope, jsonata, attempt, finish)


def _activity_started(events: TaskEvents, frame: Frame) -> Callable[[str | None], Awaitable[None]]:
    """GetActivityTask handed the task to a worker: ActivityStarted, committed before the worker
    hears of the task (AWS shows it in the history at once)."""
    async def started(worker_name: str | None) -> None:
        events.activity_started(worker_name)
        if frame.hooks is not None:
            await frame.hooks.recorded()
    return started


def _role_arn(interp: Engine, state: dict[str, Any], raw: Any, effective: Any, scope: Scope,
              jsonata: bool) -> str | None:
    """The role of the task's `Credentials` (RoleArn, RoleArn.$ or a JSONata expression), evaluated
    like Parameters/Arguments; None without Credentials."""
    credentials = state.get("Credentials")
    if not isinstance(credentials, dict):
        return None
    if jsonata:
        value = templates.jsonata_value(credentials, scope, interp.states_var(scope, raw), "Credentials")
    else:
        value = templates.payload(credentials, effective, scope)
    role = value.get("RoleArn") if isinstance(value, dict) else None
    return None if role is None else role if isinstance(role, str) else to_json(role)


def _parameters(interp: Engine, state: dict[str, Any], raw: Any, scope: Scope, jsonata: bool) -> tuple[Any, Any]:
    """(the task's parameters, the effective input its *Path fields read)."""
    if jsonata:
        states = interp.states_var(scope, raw)
        arguments = templates.jsonata_value(state["Arguments"], scope, states, "Arguments") \
            if "Arguments" in state else raw
        interp.inspect(scope, "afterArguments", arguments)
        return arguments, raw
    effective = interp.input_path(state, raw, scope)
    interp.inspect(scope, "afterInputPath", effective)
    parameters = templates.payload(state["Parameters"], effective, scope) if "Parameters" in state else effective
    interp.inspect(scope, "afterParameters", parameters)
    return parameters, effective


async def _run_or_mock(interp: Engine, request: TaskRequest, timeout: float | None) -> Any:
    mock = interp.mocked(request.state_name)
    if mock is None:
        return await _bounded(interp, request, timeout)
    kind, value = mock
    if kind == "error":
        raise StatesError(*value)
    return value


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

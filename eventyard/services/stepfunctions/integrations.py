"""Task resources: optimized integrations (Lambda, SQS, SNS, EventBridge, Step Functions), the
generic `aws-sdk:<service>:<action>` form, activities and `.waitForTaskToken`. Every call goes
through `platform.call`, exactly as a client would; an AWS error becomes the task's error with the
name Step Functions gives it (`Lambda.ResourceNotFoundException`, `Sfn.InvalidTokenException`)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.model import OperationModel

from eventyard.asl.errors import StatesError
from eventyard.asl.model import TaskRequest
from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import coral_validation_error, read_json, write_json
from eventyard.protocol.models import service_model
from eventyard.protocol.validation import ViolationHandler, validate
from eventyard.services.stepfunctions import sdk_metadata, task_role
from eventyard.services.stepfunctions.put_events_task import put_events
from eventyard.services.stepfunctions.start_execution_task import start_execution
from eventyard.services.stepfunctions.task_errors import sdk_prefix, task_error

if TYPE_CHECKING:
    from eventyard.services.stepfunctions.host import ServiceHost

# aws-sdk service names (as in the ARN) -> botocore service names, where they differ
SDK_SERVICES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}


def _operation(service: str, action: str) -> OperationModel:
    model = service_model(service)
    wanted = action[:1].upper() + action[1:]
    for name in model.operation_names:
        if name.lower() == wanted.lower():
            return model.operation_model(name)
    raise StatesError("States.Runtime", f"The resource provided {action} is not a valid operation for {service}")


def _match_keys(shape: Any, value: Any, sdk: bool = False) -> Any:
    """aws-sdk integrations name every member in PascalCase (`TaskToken`), whatever the API's case,
    and send JSON given for a string member as its text (AWS's implicit JSON serialisation:
    `"Input": {"key": "value"}` for StartExecution's string Input)."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        out = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            out[name] = _match_keys(shape.members.get(name), item, sdk)
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [_match_keys(shape.member, item, sdk) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _match_keys(shape.value, v, sdk) for k, v in value.items()}
    if sdk and shape.type_name == "string" and isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def _pascal(shape: Any, value: Any) -> Any:
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k[:1].upper() + k[1:]: _pascal(shape.members.get(k), v) for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_pascal(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _pascal(shape.value, v) for k, v in value.items()}
    return value


def _to_python(operation: OperationModel, params: Any, sdk: bool = False,
               on_violations: ViolationHandler = coral_validation_error) -> dict[str, Any]:
    shape = operation.input_shape
    if shape is None:
        return {}
    try:
        value = read_json(shape, _match_keys(shape, params if isinstance(params, dict) else {}, sdk))
    except Exception as exc:  # noqa: BLE001 - a wire type error is a validation error
        raise AwsError("ValidationException", str(exc)) from None
    violations = validate(shape, value)
    error = on_violations(violations) if violations else None
    if error is not None:
        raise error
    return value


def _to_json(operation: OperationModel, result: dict[str, Any], sdk: bool = False) -> Any:
    shape = operation.output_shape
    return _member_json(shape, result, sdk) if shape is not None else {}


def _member_json(shape: Any, value: Any, sdk: bool = False) -> Any:
    """A result as JSON keyed by member names (Step Functions shows `FunctionError`, not the HTTP
    header `X-Amz-Function-Error` the wire protocol puts it in); aws-sdk integrations show times
    as ISO 8601 instants."""
    if value is None:
        return None
    if shape.type_name == "structure":
        return {name: _member_json(shape.members[name], item, sdk) for name, item in value.items()
                if name in shape.members and item is not None}
    if shape.type_name == "list":
        return [_member_json(shape.member, item, sdk) for item in value]
    if shape.type_name == "map":
        return {key: _member_json(shape.value, item, sdk) for key, item in value.items()}
    if sdk and shape.type_name == "timestamp":
        return sdk_metadata.iso_instant(_epoch(value))
    return write_json(shape, value)


def _epoch(value: Any) -> Any:
    """A domain time (epoch seconds, or a datetime) as epoch seconds."""
    return value.timestamp() if hasattr(value, "timestamp") else value


async def call(host: ServiceHost, service: str, action: str, params: Any, prefix: str | None = None,
               sdk: bool = False) -> Any:
    """Call `service`'s operation with JSON params, answering JSON; errors become StatesErrors."""
    platform = host.runner.platform
    label = prefix or sdk_prefix(service)
    if service not in platform.services:
        raise StatesError(f"{label}.ServiceUnavailableException",
                          f"Service {service} is not available in Eventyard (Service: {label}, Status Code: 400)")
    operation = _operation(service, action)
    try:
        request = _to_python(operation, params, sdk, partial(platform.input_error, service))
        headers = {"x-amzn-trace-id": host.trace} if host.trace else None  # the execution's trace goes on
        # Tasks act as the execution role: another account's resource must grant it (runtime/access.py).
        caller = platform.role_caller(host.role_arn, "states") if host.role_arn else None
        result = await platform.call(service, operation.name, request, region=host.region, account_id=host.account,
                                     headers=headers, caller=caller)
    except AwsError as err:
        raise task_error(err, label, service, sdk) from None
    out = _to_json(operation, result, sdk)
    return _pascal(operation.output_shape, out) if sdk else out


def _stringify(params: dict[str, Any], *keys: str) -> dict[str, Any]:
    # Optimized integrations accept JSON objects where the API takes a string (MessageBody, Message);
    # a null is no value (the service answers that the parameter is missing).
    out = dict(params)
    for key in keys:
        if key in out and out[key] is None:
            del out[key]
        elif key in out and not isinstance(out[key], str):
            out[key] = json.dumps(out[key], separators=(",", ":"))
    return out


async def run_task(host: ServiceHost, request: TaskRequest) -> Any:
    if request.credentials is not None:  # the task acts as its Credentials role, in that role's account
        host = await task_role.assume(host, request.credentials)
    resource = request.resource
    parts = resource.split(":")
    waits = resource.endswith(".waitForTaskToken")
    if waits:
        resource = resource[: -len(".waitForTaskToken")]
        parts = resource.split(":")
    future: asyncio.Future[Any] | None = None
    if request.task_token is not None:
        future = asyncio.get_running_loop().create_future()
        host.runner.tokens[request.task_token] = (future, host.execution_arn)
    activity = len(parts) >= 7 and parts[5] == "activity"
    try:
        if request.resumed:
            assert future is not None and request.task_token is not None
            if await _pick_up(host, request, future):
                if activity:
                    await _enqueue_activity(host, request)
                else:
                    await _dispatch(host, resource, parts, request)
                    await _mark_dispatched(host, request.task_token)
            return await _await_token(host, future, request.task_token, request.heartbeat, activity)
        if activity:
            await _enqueue_activity(host, request)
        else:
            result = await _dispatch(host, resource, parts, request, request.on_submitted)
            if future is None:
                return result
            assert request.task_token is not None
            await _mark_dispatched(host, request.task_token)
            if request.on_submitted is not None:
                request.on_submitted(result)
        assert future is not None and request.task_token is not None
        return await _await_token(host, future, request.task_token, request.heartbeat, activity)
    finally:
        if request.task_token is not None:
            host.runner.tokens.pop(request.task_token, None)


async def _pick_up(host: ServiceHost, request: TaskRequest, future: asyncio.Future[Any]) -> bool:
    """A durable token task after a restart: settle it from a stored SendTaskSuccess/Failure, or
    answer whether its work must be sent again (the crash came before the call or the hand-over)."""
    token = request.task_token
    row = await host.runner.platform.db.read(lambda conn: conn.execute(
        "SELECT * FROM sfn_task_tokens WHERE token = ?", (token,)).fetchone())
    if row is None:
        raise StatesError("States.Runtime", "The task token of this state was not found after a restart")
    assert token is not None
    if request.heartbeat is not None:
        host.runner.heartbeats[token] = row["heartbeat_at"]
    if row["outcome"] is not None:
        settle(future, json.loads(row["outcome"]))
        return False
    return not row["dispatched"]


def settle(future: asyncio.Future[Any], outcome: dict[str, Any]) -> None:
    """Complete a token's future with a stored or just-received SendTaskSuccess/Failure."""
    if future.done():
        return
    if "output" in outcome:
        future.set_result(outcome["output"])
    else:
        future.set_exception(StatesError(outcome.get("error"), outcome.get("cause")))


async def _mark_dispatched(host: ServiceHost, token: str) -> None:
    if token in host.runner.durable_tokens:
        await host.runner.platform.db.write(lambda conn: conn.execute(
            "UPDATE sfn_task_tokens SET dispatched = 1 WHERE token = ?", (token,)))


async def _dispatch(host: ServiceHost, resource: str, parts: list[str], request: TaskRequest,
                    submitted: Callable[[Any], None] | None = None) -> Any:
    params = request.parameters
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        # a function ARN is invoked with the state's effective input as JSON (a string too)
        payload = json.dumps(params, separators=(",", ":"), ensure_ascii=False)
        out = await _lambda(host, {"FunctionName": resource, "Payload": payload}, optimized=False)
        return out["Payload"]
    if not resource.startswith("arn:aws:states:::") or len(parts) < 7:
        raise StatesError("States.Runtime", f"Unsupported resource {resource}")
    service, action = parts[5], ":".join(parts[6:])
    if service == "aws-sdk":
        sdk = SDK_SERVICES.get(parts[6], parts[6])
        return await call(host, sdk, parts[7], params, sdk=True)
    if service == "lambda" and action == "invoke":
        return await _lambda(host, params)
    if service == "sqs" and action == "sendMessage":
        sent = await call(host, "sqs", "SendMessage", _stringify(params, "MessageBody"), "SQS")
        return sdk_metadata.with_sdk_metadata(host, sent, "application/x-amz-json-1.0")
    if service == "sns" and action == "publish":
        published = await call(host, "sns", "Publish", _stringify(params, "Message"), "SNS")
        return sdk_metadata.with_sdk_metadata(host, published, "text/xml", sdk_metadata.sns_publish_length)
    if service == "events" and action == "putEvents":
        return await put_events(_caller(host), params, request.context)
    if service == "states" and action.startswith("startExecution"):
        # a .sync task's own token ($$.Task.Token) may be answered to end it early
        token = request.context.get("Task", {}).get("Token") if ".sync" in action else None
        return await start_execution(host, _caller(host), action, params, token, submitted)
    raise StatesError("States.Runtime", f"The resource {resource} is not supported by Eventyard")


def _caller(host: ServiceHost) -> Callable[[str, str, Any, str], Awaitable[Any]]:
    """`call` bound to this execution, for the integrations kept in modules of their own."""
    async def bound(service: str, action: str, params: Any, prefix: str) -> Any:
        return await call(host, service, action, params, prefix)
    return bound


async def _lambda(host: ServiceHost, params: dict[str, Any], optimized: bool = True) -> dict[str, Any]:
    payload = params.get("Payload")
    body = payload if isinstance(payload, str) else json.dumps(payload if payload is not None else {})
    request = {k: v for k, v in params.items() if k != "Payload"}
    request["Payload"] = base64.b64encode(body.encode()).decode()
    out = await call(host, "lambda", "Invoke", request, "Lambda")
    raw = base64.b64decode(out.get("Payload") or "").decode() if out.get("Payload") else ""
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = raw
    if out.get("FunctionError"):
        error = value.get("errorType", "Exception") if isinstance(value, dict) else "Exception"
        # the optimized integration re-serializes the error payload it parsed (compactly), as AWS
        # recorded; a plain function ARN passes the function's own bytes on
        compact = optimized and isinstance(value, dict)
        raise StatesError(error, json.dumps(value, separators=(",", ":"), ensure_ascii=False) if compact else raw)
    version = out.get("ExecutedVersion", "$LATEST")
    request_id = str(uuid.uuid4())  # one request: the header and the SDK's metadata name the same id
    log = out.get("LogResult")
    status = out.get("StatusCode", 200)
    return {"ExecutedVersion": version, **({"LogResult": log} if log is not None else {}), "Payload": value,
            "SdkHttpMetadata": sdk_metadata.lambda_http_metadata(host, version, len(raw.encode()), status,
                                                                 request_id, log),
            "SdkResponseMetadata": {"RequestId": request_id}, "StatusCode": status}


async def _await_token(host: ServiceHost, future: asyncio.Future[Any], token: str, heartbeat: float | None,
                       activity: bool = False) -> Any:
    """Wait for SendTaskSuccess/Failure; with HeartbeatSeconds, a silence that long times the task
    out (each SendTaskHeartbeat restarts the count): States.HeartbeatTimeout for an activity, and
    States.Timeout for a .waitForTaskToken integration, as AWS recorded (TaskTimedOut, ExecutionFailed)."""
    if heartbeat is None:
        return await future
    host.runner.heartbeats.setdefault(token, host.now())
    try:
        while True:
            due = host.runner.heartbeats[token] + heartbeat
            sleeper = asyncio.ensure_future(host.sleep_until(due))
            try:
                await asyncio.wait({future, sleeper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
            if future.done():
                return future.result()
            if host.now() >= host.runner.heartbeats[token] + heartbeat:
                raise StatesError("States.HeartbeatTimeout" if activity else "States.Timeout", None)
    finally:
        host.runner.heartbeats.pop(token, None)


async def _enqueue_activity(host: ServiceHost, request: TaskRequest) -> None:
    assert request.task_token is not None
    arn = request.resource
    platform = host.runner.platform
    exists = await platform.db.read(lambda conn: conn.execute(
        "SELECT 1 FROM sfn_activities WHERE arn = ?", (arn,)).fetchone())
    if exists is None:
        raise StatesError("States.Runtime", f"Activity Does Not Exist: '{arn}'")
    queue = host.runner.activity_queues.setdefault(arn, asyncio.Queue())
    await queue.put((request.task_token, json.dumps(request.parameters, separators=(",", ":"))))
    host.runner.nodes.announce_activity(arn)  # a worker may be polling another node

"""Task resources: optimized integrations (Lambda, SQS, SNS, EventBridge, Step Functions), the
generic `aws-sdk:<service>:<action>` form, activities and `.waitForTaskToken`. Every call goes
through `platform.call`, exactly as a client would; an AWS error becomes the task's error with the
name Step Functions gives it (`Lambda.ResourceNotFoundException`, `Sfn.InvalidTokenException`)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from botocore.model import OperationModel

from eventyard.asl.errors import StatesError
from eventyard.asl.model import TaskRequest
from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import read_json, write_json
from eventyard.protocol.models import service_model
from eventyard.protocol.validation import coral_message, validate
from eventyard.runtime import tracing

if TYPE_CHECKING:
    from eventyard.services.stepfunctions.host import ServiceHost

# aws-sdk service names (as in the ARN) -> botocore service names, where they differ
SDK_SERVICES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}
# How Step Functions prefixes an SDK error: the SDK's service id
ERROR_PREFIX = {"stepfunctions": "Sfn", "sqs": "Sqs", "sns": "Sns", "events": "EventBridge", "lambda": "Lambda",
                "kinesis": "Kinesis", "logs": "CloudWatchLogs"}


def _operation(service: str, action: str) -> OperationModel:
    model = service_model(service)
    wanted = action[:1].upper() + action[1:]
    for name in model.operation_names:
        if name.lower() == wanted.lower():
            return model.operation_model(name)
    raise StatesError("States.Runtime", f"The resource provided {action} is not a valid operation for {service}")


def _match_keys(shape: Any, value: Any) -> Any:
    """aws-sdk integrations name every member in PascalCase (`TaskToken`), whatever the API's case."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        out = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            out[name] = _match_keys(shape.members.get(name), item)
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [_match_keys(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _match_keys(shape.value, v) for k, v in value.items()}
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


def _to_python(operation: OperationModel, params: Any) -> dict[str, Any]:
    shape = operation.input_shape
    if shape is None:
        return {}
    try:
        value = read_json(shape, _match_keys(shape, params if isinstance(params, dict) else {}))
    except Exception as exc:  # noqa: BLE001 - a wire type error is a validation error
        raise AwsError("ValidationException", str(exc)) from None
    violations = validate(shape, value)
    if violations:
        raise AwsError("ValidationException", coral_message(violations))
    return value


def _to_json(operation: OperationModel, result: dict[str, Any]) -> Any:
    shape = operation.output_shape
    return _member_json(shape, result) if shape is not None else {}


def _member_json(shape: Any, value: Any) -> Any:
    """A result as JSON keyed by member names (Step Functions shows `FunctionError`, not the HTTP
    header `X-Amz-Function-Error` the wire protocol puts it in)."""
    if value is None:
        return None
    if shape.type_name == "structure":
        return {name: _member_json(shape.members[name], item) for name, item in value.items()
                if name in shape.members and item is not None}
    if shape.type_name == "list":
        return [_member_json(shape.member, item) for item in value]
    if shape.type_name == "map":
        return {key: _member_json(shape.value, item) for key, item in value.items()}
    return write_json(shape, value)


async def call(host: ServiceHost, service: str, action: str, params: Any, prefix: str | None = None,
               sdk: bool = False) -> Any:
    """Call `service`'s operation with JSON params, answering JSON; errors become StatesErrors."""
    platform = host.runner.platform
    label = prefix or ERROR_PREFIX.get(service, service.capitalize())
    if service not in platform.services:
        raise StatesError(f"{label}.ServiceUnavailableException",
                          f"Service {service} is not available in Eventyard (Service: {label}, Status Code: 400)")
    operation = _operation(service, action)
    try:
        request = _to_python(operation, params)
        headers = {"x-amzn-trace-id": host.trace} if host.trace else None  # the execution's trace goes on
        # Tasks act as the execution role: another account's resource must grant it (runtime/access.py).
        caller = platform.role_caller(host.role_arn, "states") if host.role_arn else None
        result = await platform.call(service, operation.name, request, region=host.region, account_id=host.account,
                                     headers=headers, caller=caller)
    except AwsError as err:
        raise _task_error(err, label, service, sdk) from None
    out = _to_json(operation, result)
    return _pascal(operation.output_shape, out) if sdk else out


# The service names of AWS's Java SDK v1, which its optimized integrations quote in their causes
V1_SERVICE = {"lambda": "AWSLambda", "stepfunctions": "AWSStepFunctions", "sqs": "AmazonSQS", "sns": "AmazonSNS",
              "events": "AmazonEventBridge", "dynamodb": "AmazonDynamoDBv2"}


def _task_error(err: AwsError, label: str, service: str, sdk: bool) -> StatesError:
    """An AWS error as the task's error: `<Service>.<Code>Exception` (the SDK's exception class) with
    the SDK's cause: aws-sdk integrations speak SDK v2, optimized ones SDK v1."""
    code = err.code if err.code.endswith("Exception") else f"{err.code}Exception"
    request_id = uuid.uuid4()
    if sdk:
        cause = (f"{err.message} (Service: {label}, Status Code: {err.status}, Request ID: {request_id})"
                 " (SDK Attempt Count: 1)")
    else:
        cause = (f"{err.message} (Service: {V1_SERVICE.get(service, label)}; Status Code: {err.status}; Error Code: "
                 f"{err.code}; Request ID: {request_id}; Proxy: null)")
    return StatesError(f"{label}.{code}", cause)


def _stringify(params: dict[str, Any], *keys: str) -> dict[str, Any]:
    # Optimized integrations accept JSON objects where the API takes a string (MessageBody, Detail).
    out = dict(params)
    for key in keys:
        if key in out and not isinstance(out[key], str):
            out[key] = json.dumps(out[key], separators=(",", ":"))
    return out


async def run_task(host: ServiceHost, request: TaskRequest) -> Any:
    resource = request.resource
    parts = resource.split(":")
    params = request.parameters
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
                    await _dispatch(host, resource, parts, params)
                    await _mark_dispatched(host, request.task_token)
            return await _await_token(host, future, request.task_token, request.heartbeat, activity)
        if activity:
            await _enqueue_activity(host, request)
        else:
            result = await _dispatch(host, resource, parts, params, request.on_submitted)
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


async def _dispatch(host: ServiceHost, resource: str, parts: list[str], params: Any,
                    submitted: Callable[[Any], None] | None = None) -> Any:
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        out = await _lambda(host, {"FunctionName": resource, "Payload": params}, optimized=False)
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
        return _with_sdk_metadata(host, sent, "application/x-amz-json-1.0")
    if service == "sns" and action == "publish":
        published = await call(host, "sns", "Publish", _stringify(params, "Message"), "SNS")
        return _with_sdk_metadata(host, published, "text/xml", _sns_publish_length)
    if service == "events" and action == "putEvents":
        entries = [_stringify(e, "Detail") for e in params.get("Entries", [])]
        return await call(host, "events", "PutEvents", {**params, "Entries": entries}, "EventBridge")
    if service == "states" and action.startswith("startExecution"):
        return await _start_execution(host, action, params, submitted)
    raise StatesError("States.Runtime", f"The resource {resource} is not supported by Eventyard")


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
    return {"ExecutedVersion": version, "Payload": value,
            "SdkHttpMetadata": _sdk_http_metadata(host, version, len(raw.encode()), out.get("StatusCode", 200),
                                                  request_id),
            "SdkResponseMetadata": {"RequestId": request_id}, "StatusCode": out.get("StatusCode", 200)}


def _json_length(result: dict[str, Any], request_id: str) -> int:
    return len(json.dumps(result, separators=(",", ":")).encode())


def _sns_publish_length(result: dict[str, Any], request_id: str) -> int:
    """The length of SNS's XML Publish answer as AWS formats it (two-space indentation)."""
    lines = ['<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">', "  <PublishResult>",
             f"    <MessageId>{result.get('MessageId', '')}</MessageId>"]
    if result.get("SequenceNumber"):
        lines.append(f"    <SequenceNumber>{result['SequenceNumber']}</SequenceNumber>")
    lines += ["  </PublishResult>", "  <ResponseMetadata>", f"    <RequestId>{request_id}</RequestId>",
              "  </ResponseMetadata>", "</PublishResponse>"]
    return len(("\n".join(lines) + "\n").encode())


def _with_sdk_metadata(host: ServiceHost, result: dict[str, Any], content_type: str,
                       length_of: Callable[[dict[str, Any], str], int] = _json_length) -> dict[str, Any]:
    """An answer with the Java SDK's response metadata, as AWS's optimized integrations pass it on
    (the body length is that of AWS's answer on the wire)."""
    request_id = str(uuid.uuid4())
    length = length_of(result, request_id)
    headers = {"x-amzn-RequestId": request_id, "connection": "keep-alive", "Content-Length": str(length),
               "Date": formatdate(host.now(), usegmt=True), "Content-Type": content_type}
    return {**result, "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()},
                                          "HttpHeaders": headers, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id}}


def _sdk_http_metadata(host: ServiceHost, version: str, length: int, status: int, request_id: str) -> dict[str, Any]:
    """The Invoke answer's HTTP metadata as AWS's optimized Lambda integration passes it on (the
    Java SDK's headers: each once as a value and once as a list of values)."""
    now = host.now()
    received = tracing.parse(host.trace)
    root = received.root if received else f"1-{int(now):08x}-{uuid.uuid4().hex[:24]}"
    trace = f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled={(received and received.sampled) or '0'}"
    headers = {"Connection": "keep-alive", "Content-Length": str(length), "Content-Type": "application/json",
               "Date": formatdate(now, usegmt=True), "X-Amz-Executed-Version": version,
               "x-amzn-Remapped-Content-Length": "0", "x-amzn-RequestId": request_id,
               "X-Amzn-Trace-Id": trace}
    return {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers, "HttpStatusCode": status}


# What a .sync task answers of DescribeExecution (the Java SDK's names), in this order
SYNC_FIELDS = (("executionArn", "ExecutionArn"), ("input", "Input"), ("inputDetails", "InputDetails"),
               ("name", "Name"), ("output", "Output"), ("outputDetails", "OutputDetails"),
               ("startDate", "StartDate"), ("stateMachineArn", "StateMachineArn"), ("status", "Status"),
               ("stopDate", "StopDate"), ("error", "Error"), ("cause", "Cause"))


async def _start_execution(host: ServiceHost, action: str, params: dict[str, Any],
                           submitted: Callable[[Any], None] | None = None) -> Any:
    # a null Input is no input: the child starts with {} as AWS's does
    params = _stringify({k: v for k, v in params.items() if not (k == "Input" and v is None)}, "Input")
    started = await call(host, "stepfunctions", "StartExecution", params, "StepFunctions")
    if action == "startExecution":
        return started
    if submitted is not None:  # AWS: TaskSubmitted carries the StartExecution answer, SDK-shaped
        submitted(_with_sdk_metadata(host, {"ExecutionArn": started["executionArn"],
                                            "StartDate": _millis(started["startDate"])},
                                     "application/x-amz-json-1.0"))
    described: dict[str, Any] = {}
    while True:  # .sync: follow the child execution to its end
        described = await call(host, "stepfunctions", "DescribeExecution",
                               {"executionArn": started["executionArn"]}, "StepFunctions")
        if described["status"] != "RUNNING":
            break
        await asyncio.sleep(0.05)
    result = _sync_result(described, parsed=action.endswith(":2"))
    if described["status"] != "SUCCEEDED":  # the cause: the child's description as the task would answer it
        raise StatesError("States.TaskFailed", json.dumps(result, separators=(",", ":")))
    return result


def _millis(value: Any) -> Any:
    return round(float(value) * 1000) if isinstance(value, (int, float)) else value


def _sync_result(described: dict[str, Any], parsed: bool) -> dict[str, Any]:
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

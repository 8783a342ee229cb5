"""The classes of bad input that once earned 500s answer AWS errors: `null` bodies, JSON nested
thousands deep, lone surrogates, definitions that are JSON but not objects, empty zips, huge bodies."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventyard.protocol.models import service_model
from eventyard.server.limits import MAX_REQUEST_BYTES
from tests.conftest import CLIENT_CONFIG, ServerProcess
from tests.fuzz.wire import RawRequest, send, sign

JSON_SERVICES = {"sqs": ("AmazonSQS", "sqs", "1.0"), "events": ("AWSEvents", "events", "1.1"),
                 "kinesis": ("Kinesis_20131202", "kinesis", "1.1"), "stepfunctions": ("AWSStepFunctions", "states", "1.0"),
                 "logs": ("Logs_20140328", "logs", "1.1")}


def post_json(server: ServerProcess, service: str, operation: str, body: bytes) -> tuple[int, dict[str, str]]:
    prefix, signing, version = JSON_SERVICES[service]
    request = sign(RawRequest("POST", "/", {"X-Amz-Target": f"{prefix}.{operation}",
                                            "Content-Type": f"application/x-amz-json-{version}"}, body),
                   server.url, signing)
    answer = send(server.port, request)
    return answer.status, json.loads(answer.body or b"{}")


@pytest.mark.parametrize("service,operation", [(s, o) for s in JSON_SERVICES for o in service_model(s).operation_names])
def test_a_null_body_is_a_serialization_error_on_every_json_operation(server: ServerProcess, service: str,
                                                                      operation: str) -> None:
    status, error = post_json(server, service, operation, b"null")
    assert status == 400, error
    assert error["__type"].endswith("SerializationException")


@pytest.mark.parametrize("body", [b"[" * 10_000 + b"]" * 10_000, b'{"QueueName":' * 10_000 + b"1" + b"}" * 10_000,
                                  b'{"a":' * 101 + b"1" + b"}" * 101])
def test_json_nested_past_the_limit_is_refused(server: ServerProcess, body: bytes) -> None:
    status, error = post_json(server, "sqs", "GetQueueUrl", body)
    assert status == 400
    assert error["__type"].endswith("SerializationException")


def test_json_nested_within_the_limit_reaches_the_service(server: ServerProcess) -> None:
    body = b'{"QueueName": "nope", "x":' + b'{"a":' * 97 + b"1" + b"}" * 97 + b"}"
    status, error = post_json(server, "sqs", "GetQueueUrl", body)
    assert (status, error["__type"]) == (400, "com.amazonaws.sqs#QueueDoesNotExist")


def error_code(call: object) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()  # type: ignore[operator]
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_lone_surrogates_in_string_members_are_validation_errors(server: ServerProcess, unique: str) -> None:
    code, message = error_code(lambda: server.client("sqs").get_queue_url(QueueName="q\ud800"))
    assert code == "InvalidParameterValue"
    assert "QueueName" in message
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name=f"surrogates-{unique}", roleArn="arn:aws:iam::000000000000:role/r",
                                       definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                                                               "End": True}}}))
    code, message = error_code(lambda: sfn.start_execution(stateMachineArn=machine["stateMachineArn"],
                                                           input='{"a": "\ud800"}'))
    assert code == "ValidationException" and "Member must contain only valid Unicode characters" in message
    logs = server.client("logs")
    logs.create_log_group(logGroupName=f"surrogates-{unique}")
    logs.create_log_stream(logGroupName=f"surrogates-{unique}", logStreamName="s")
    code, _ = error_code(lambda: logs.put_log_events(logGroupName=f"surrogates-{unique}", logStreamName="s",
                                                     logEvents=[{"timestamp": 1, "message": "\udfff"}]))
    assert code == "InvalidParameterException"  # Logs words model violations so (services/logs/wire.py)


def test_a_lone_surrogate_in_one_put_events_detail_fails_only_that_entry(server: ServerProcess) -> None:
    answer = server.client("events").put_events(Entries=[
        {"Source": "fuzz", "DetailType": "t", "Detail": '{"a": "\ud800"}'},
        {"Source": "fuzz", "DetailType": "t", "Detail": '{"a": "fine"}'},
    ])
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][0] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert "EventId" in answer["Entries"][1]


@pytest.mark.parametrize("definition", ["-1", "null", "NaN", "[]", '"Pass"'])
def test_test_state_with_a_definition_that_is_not_an_object_is_invalid(server: ServerProcess, definition: str) -> None:
    sfn = boto3.client("stepfunctions", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="AKID",
                       aws_secret_access_key="secret", config=CLIENT_CONFIG.merge(Config(inject_host_prefix=False)))
    code, message = error_code(lambda: sfn.test_state(
        definition=definition, roleArn="arn:aws:iam::000000000000:role/r"))
    assert code == "InvalidDefinition"
    assert message.startswith("Invalid State Machine Definition:")


def test_create_function_with_an_empty_zip_is_refused_as_aws_does(server: ServerProcess, unique: str) -> None:
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    code, message = error_code(lambda: server.client("lambda").create_function(
        FunctionName=f"empty-{unique}", Runtime="python3.12", Handler="h.h", Role="arn:aws:iam::000000000000:role/r",
        Code={"ZipFile": empty.getvalue()}))
    assert (code, message) == ("InvalidParameterValueException", "Uploaded file must be a non-empty zip")


def test_a_body_over_awss_largest_request_is_refused_unread(server: ServerProcess) -> None:
    request = sign(RawRequest("POST", "/2015-03-31/functions", {"Content-Type": "application/json"},
                              b" " * (MAX_REQUEST_BYTES + 1)), server.url, "lambda")
    answer = send(server.port, request)
    assert answer.status == 413
    assert answer.headers["x-amzn-errortype"] == "RequestEntityTooLargeException"
    # AWS names the operation when the route tells it (recorded for CreateFunction)
    assert json.loads(answer.body)["message"] == "Request must be smaller than 70167211 bytes for the CreateFunction operation"

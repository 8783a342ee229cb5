"""rest-json against botocore's own serializer and parser, for the lambda and scheduler models."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import botocore.parsers
import botocore.serialize
import pytest
from botocore.awsrequest import HeadersDict

from eventyard.protocol.base import HttpRequest
from eventyard.protocol.errors import AwsError, UnknownOperation
from eventyard.protocol.models import service_model
from eventyard.protocol.rest_json import RestJsonProtocol


@pytest.fixture(scope="module")
def lam() -> RestJsonProtocol:
    return RestJsonProtocol(service_model("lambda"))


@pytest.fixture(scope="module")
def scheduler() -> RestJsonProtocol:
    return RestJsonProtocol(service_model("scheduler"))


def client_request(protocol: RestJsonProtocol, operation: str, params: dict[str, Any]) -> HttpRequest:
    """The exact request botocore would send for these params."""
    op = protocol.model.operation_model(operation)
    serialized = botocore.serialize.create_serializer("rest-json").serialize_to_request(params, op)
    url = serialized["url_path"]
    split = urlsplit(url)
    query = "&".join(f"{k}={v}" for k, v in serialized["query_string"].items()) if isinstance(
        serialized["query_string"], dict) else serialized["query_string"]
    from urllib.parse import unquote, urlencode

    if isinstance(serialized["query_string"], dict):
        query = urlencode(serialized["query_string"], doseq=True)
    if split.query:
        query = f"{split.query}&{query}" if query else split.query
    body = serialized["body"]
    if isinstance(body, str):
        body = body.encode()
    return HttpRequest(
        method=serialized["method"], path=unquote(split.path), raw_path=split.path, query_string=query,
        headers={k.lower(): v for k, v in serialized["headers"].items()}, body=body or b"",
    )


def client_view(protocol: RestJsonProtocol, operation: str, response: Any) -> dict[str, Any]:
    op = protocol.model.operation_model(operation)
    parsed = botocore.parsers.create_parser("rest-json").parse(
        {"status_code": response.status, "headers": HeadersDict(response.headers), "body": response.body}, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_invoke_reads_labels_headers_query_and_a_raw_payload(lam: RestJsonProtocol) -> None:
    request = client_request(lam, "Invoke", {
        "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:fn", "InvocationType": "Event",
        "LogType": "Tail", "Qualifier": "prod", "Payload": b'{"a": 1}'})
    parsed = lam.parse(request)
    assert parsed.operation.name == "Invoke"
    assert parsed.params == {
        "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:fn", "InvocationType": "Event",
        "LogType": "Tail", "Qualifier": "prod", "Payload": b'{"a": 1}'}


def test_invoke_output_puts_status_headers_and_payload_where_botocore_reads_them(lam: RestJsonProtocol) -> None:
    op = lam.model.operation_model("Invoke")
    response = lam.serialize(op, {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
                                  "LogResult": "bG9n", "Payload": b'{"errorMessage":"x"}'}, "rid")
    assert response.status == 200
    assert response.body == b'{"errorMessage":"x"}'
    view = client_view(lam, "Invoke", response)
    assert view["FunctionError"] == "Unhandled" and view["ExecutedVersion"] == "$LATEST"
    assert view["LogResult"] == "bG9n" and view["StatusCode"] == 200


def test_create_function_reads_the_json_body_and_answers_201(lam: RestJsonProtocol) -> None:
    params = {"FunctionName": "fn", "Runtime": "python3.12", "Role": "arn:aws:iam::000000000000:role/r",
              "Handler": "app.handler", "Code": {"ZipFile": b"PK\x03\x04zip"}, "Timeout": 5,
              "Environment": {"Variables": {"AA": "1"}}, "Tags": {"team": "x"}}
    parsed = lam.parse(client_request(lam, "CreateFunction", params))
    assert parsed.operation.name == "CreateFunction"
    assert parsed.params == params
    response = lam.serialize(parsed.operation, {"FunctionName": "fn", "Timeout": 5, "MemorySize": 128}, "r")
    assert response.status == 201
    assert client_view(lam, "CreateFunction", response) == {"FunctionName": "fn", "Timeout": 5, "MemorySize": 128}


def test_query_string_members_are_typed(lam: RestJsonProtocol) -> None:
    parsed = lam.parse(client_request(lam, "ListFunctions", {"MaxItems": 7, "Marker": "m", "FunctionVersion": "ALL"}))
    assert parsed.operation.name == "ListFunctions"
    assert parsed.params == {"MaxItems": 7, "Marker": "m", "FunctionVersion": "ALL"}


def test_literal_query_parts_pick_the_more_specific_operation(lam: RestJsonProtocol) -> None:
    parsed = lam.parse(client_request(lam, "GetLayerVersionByArn", {
        "Arn": "arn:aws:lambda:us-east-1:000000000000:layer:l:1"}))
    assert parsed.operation.name == "GetLayerVersionByArn"
    assert parsed.params == {"Arn": "arn:aws:lambda:us-east-1:000000000000:layer:l:1"}
    listed = lam.parse(client_request(lam, "ListProvisionedConcurrencyConfigs", {"FunctionName": "f"}))
    assert listed.operation.name == "ListProvisionedConcurrencyConfigs"
    got = lam.parse(client_request(lam, "GetProvisionedConcurrencyConfig", {"FunctionName": "f", "Qualifier": "1"}))
    assert got.operation.name == "GetProvisionedConcurrencyConfig"


def test_method_selects_among_operations_on_one_path(lam: RestJsonProtocol) -> None:
    assert lam.parse(client_request(lam, "GetFunction", {"FunctionName": "f"})).operation.name == "GetFunction"
    assert lam.parse(client_request(lam, "DeleteFunction", {"FunctionName": "f"})).operation.name == "DeleteFunction"
    untag = lam.parse(client_request(lam, "UntagResource", {
        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f", "TagKeys": ["a", "b"]}))
    assert untag.params["TagKeys"] == ["a", "b"]


def test_an_empty_output_answers_the_models_status_without_a_body(lam: RestJsonProtocol) -> None:
    op = lam.model.operation_model("TagResource")
    response = lam.serialize(op, None, "r")
    assert response.status == 204 and response.body == b""


def test_validation_errors_are_coral_messages(lam: RestJsonProtocol) -> None:
    request = client_request(lam, "GetFunction", {"FunctionName": "f"})
    request.path = request.raw_path = "/2015-03-31/functions/" + "x" * 300
    with pytest.raises(AwsError) as caught:
        lam.parse(request)
    assert caught.value.code == "ValidationException"
    assert caught.value.message.startswith("1 validation error detected: Value '")
    assert "at 'functionName' failed to satisfy constraint" in caught.value.message


def test_unknown_paths_are_unknown_operations(lam: RestJsonProtocol) -> None:
    request = HttpRequest(method="GET", path="/nope", query_string="", headers={}, body=b"")
    assert not lam.matches(request)
    with pytest.raises(UnknownOperation):
        lam.parse(request)


def test_errors_carry_the_type_header_status_and_shape_members(lam: RestJsonProtocol) -> None:
    op = lam.model.operation_model("Invoke")
    error = AwsError("TooManyRequestsException", "Rate Exceeded.", 400)
    error.fields = {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",  # type: ignore[attr-defined]
                    "retryAfterSeconds": "1"}
    response = lam.serialize_error(error, op, "rid")
    assert response.status == 429
    assert response.headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert response.headers["retry-after"] == "1"
    assert json.loads(response.body) == {"Type": "User", "message": "Rate Exceeded.",
                                         "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}
    parsed = botocore.parsers.create_parser("rest-json").parse(
        {"status_code": response.status, "headers": HeadersDict(response.headers), "body": response.body}, op.output_shape)
    assert parsed["Error"]["Code"] == "TooManyRequestsException"
    assert parsed["Error"]["Message"] == "Rate Exceeded."


def test_not_found_uses_the_models_404_and_message_member(lam: RestJsonProtocol) -> None:
    response = lam.serialize_error(AwsError("ResourceNotFoundException", "Function not found: x"), None, "r")
    assert response.status == 404
    assert json.loads(response.body) == {"Type": "User", "Message": "Function not found: x"}


def test_scheduler_round_trips_body_and_query(scheduler: RestJsonProtocol) -> None:
    params = {"Name": "s1", "ScheduleExpression": "rate(5 minutes)", "FlexibleTimeWindow": {"Mode": "OFF"},
              "Target": {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"},
              "StartDate": 1700000000.0, "ClientToken": "tok"}
    parsed = scheduler.parse(client_request(scheduler, "CreateSchedule", params))
    assert parsed.operation.name == "CreateSchedule"
    assert parsed.params == params
    listed = scheduler.parse(client_request(scheduler, "ListSchedules", {"GroupName": "g", "MaxResults": 5}))
    assert listed.params == {"GroupName": "g", "MaxResults": 5}
    op = scheduler.model.operation_model("GetSchedule")
    response = scheduler.serialize(op, {"Name": "s1", "CreationDate": 1700000000.5}, "r")
    view = client_view(scheduler, "GetSchedule", response)
    assert view["Name"] == "s1" and view["CreationDate"].timestamp() == 1700000000.5


def test_an_escaped_slash_stays_inside_a_label(scheduler: RestJsonProtocol) -> None:
    arn = "arn:aws:scheduler:us-east-1:000000000000:schedule-group/g1"
    parsed = scheduler.parse(client_request(scheduler, "ListTagsForResource", {"ResourceArn": arn}))
    assert parsed.operation.name == "ListTagsForResource"
    assert parsed.params == {"ResourceArn": arn}


def test_scheduler_conflict_error_has_its_status(scheduler: RestJsonProtocol) -> None:
    response = scheduler.serialize_error(AwsError("ConflictException", "exists"), None, "r")
    assert response.status == 409
    assert json.loads(response.body) == {"Message": "exists"}

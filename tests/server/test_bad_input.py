"""Bad input never earns a 500: every operation of every service, sent empty or mistyped input,
answers an AWS error (4xx) or succeeds, as AWS would."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from eventyard.protocol.models import service_model
from tests.conftest import ServerProcess

JSON_SERVICES = {"sqs": "AmazonSQS", "events": "AWSEvents", "kinesis": "Kinesis_20131202",
                 "stepfunctions": "AWSStepFunctions", "logs": "Logs_20140328"}
SIGNING = {"sqs": "sqs", "events": "events", "kinesis": "kinesis", "stepfunctions": "states", "logs": "logs",
           "sns": "sns", "lambda": "lambda", "scheduler": "scheduler"}


def _auth(service: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/{SIGNING[service]}/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64)


def _send(server: ServerProcess, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(server.url + path, data=body if method != "GET" else None, method=method,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _mistyped(shape: Any) -> dict[str, Any]:
    """Every top-level member with a value of the wrong JSON type."""
    wrong = {"string": 12, "integer": "twelve", "long": "twelve", "boolean": "yes", "list": {"a": 1},
             "map": ["a"], "structure": "text", "blob": 7, "timestamp": {"t": 1}, "double": "x", "float": "x"}
    return {name: wrong.get(member.type_name, None) for name, member in shape.members.items()} if shape else {}


def _cases(service: str) -> list[tuple[str, str]]:
    return [(service, operation) for operation in service_model(service).operation_names]


@pytest.mark.parametrize("service,operation", [c for s in JSON_SERVICES for c in _cases(s)])
def test_json_operations_answer_empty_and_mistyped_input_with_aws_errors(
        server: ServerProcess, service: str, operation: str) -> None:
    shape = service_model(service).operation_model(operation).input_shape
    for body in (b"", b"{}", json.dumps(_mistyped(shape)).encode(), b"[1, 2]", b"\xff\xfe"):
        status, answer = _send(server, "POST", "/", body, {
            "X-Amz-Target": f"{JSON_SERVICES[service]}.{operation}", "Authorization": _auth(service),
            "Content-Type": "application/x-amz-json-1.1"})
        assert status < 500, f"{service}.{operation} with {body[:60]!r} -> {status} {answer[:300]!r}"


@pytest.mark.parametrize("service,operation", _cases("sns"))
def test_query_operations_answer_missing_and_garbage_parameters_with_aws_errors(
        server: ServerProcess, service: str, operation: str) -> None:
    for form in ({"Action": operation}, {"Action": operation, "TopicArn": "garbage", "Name": "", "Protocol": "x",
                                         "Endpoint": "x", "Message": "", "SubscriptionArn": "x", "Token": "x",
                                         "MaxResults": "nan", "Attributes.entry.1.key": "x"}):
        status, answer = _send(server, "POST", "/", urllib.parse.urlencode(form).encode(), {
            "Authorization": _auth(service), "Content-Type": "application/x-www-form-urlencoded"})
        assert status < 500, f"{service}.{operation} with {form} -> {status} {answer[:300]!r}"


def _rest_path(uri: str) -> str:
    path = re.sub(r"\{[^}]+\+\}", "x/y", uri)
    return re.sub(r"\{[^}]+\}", "x", path)


@pytest.mark.parametrize("service,operation", [c for s in ("lambda", "scheduler") for c in _cases(s)])
def test_rest_json_operations_answer_empty_and_mistyped_input_with_aws_errors(
        server: ServerProcess, service: str, operation: str) -> None:
    model = service_model(service).operation_model(operation)
    method, uri = model.http["method"], model.http["requestUri"]
    for body in (b"", b"{}", b"not json", json.dumps(_mistyped(model.input_shape)).encode()):
        status, answer = _send(server, method, _rest_path(uri), body, {
            "Authorization": _auth(service), "Content-Type": "application/json"})
        assert status < 500, f"{service}.{operation} {method} {uri} with {body[:60]!r} -> {status} {answer[:300]!r}"

"""The server as a whole: health, routing, unknown operations, the clock endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.conftest import ServerProcess
from tests.signing import signed_headers
from tests.storage_backends import TEST_STORAGE


def get(server: ServerProcess, path: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def post_json(server: ServerProcess, target: str, body: dict[str, object]) -> tuple[int, dict[str, str], dict[str, object]]:
    data = json.dumps(body).encode()
    headers = signed_headers("POST", server.url + "/", data, {
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}, "sqs")
    request = urllib.request.Request(server.url + "/", data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)


def test_health_reports_version_storage_and_services(server: ServerProcess) -> None:
    status, health = get(server, "/_eventyard/health")
    assert status == 200
    assert health["version"] == "0.1.0"
    assert health["storage"]["backend"] == TEST_STORAGE  # type: ignore[index]
    assert health["services"]["sqs"] == "running"  # type: ignore[index]


def test_an_unknown_eventyard_endpoint_is_404(server: ServerProcess) -> None:
    assert get(server, "/_eventyard/nothing")[0] == 404


def test_a_request_no_service_claims_is_404(server: ServerProcess) -> None:
    assert get(server, "/nowhere")[0] == 404


def test_an_unknown_sqs_json_operation_is_an_aws_error_not_a_500(server: ServerProcess) -> None:
    status, headers, body = post_json(server, "AmazonSQS.FlyToTheMoon", {})
    assert status == 400
    assert body["__type"].endswith("UnknownOperationException")  # type: ignore[union-attr]
    assert headers["x-amzn-query-error"] == "InvalidAction;Sender"


def test_malformed_json_is_a_serialization_error(server: ServerProcess) -> None:
    headers = signed_headers("POST", server.url + "/", b"{not json", {
        "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"}, "sqs")
    request = urllib.request.Request(server.url + "/", data=b"{not json", method="POST", headers=headers)
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("expected an error")
    except urllib.error.HTTPError as error:
        assert error.code == 400
        assert json.load(error)["__type"].endswith("SerializationException")


def test_a_wrongly_typed_member_is_a_serialization_error(server: ServerProcess) -> None:
    status, _, body = post_json(server, "AmazonSQS.CreateQueue", {"QueueName": 42})
    assert status == 400 and body["__type"].endswith("SerializationException")  # type: ignore[union-attr]


def test_the_clock_moves_forward_only_when_enabled(server: ServerProcess) -> None:
    status, before = get(server, "/_eventyard/clock")
    server.advance_clock(5)
    _, after = get(server, "/_eventyard/clock")
    assert status == 200 and after["offset"] >= before["offset"] + 5  # type: ignore[operator]

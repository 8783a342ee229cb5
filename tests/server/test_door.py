"""Requests no AWS SDK sends are refused before any service sees them (drive-by browser requests)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from eventyard.protocol.base import HttpRequest
from eventyard.server.door import HostPolicy, is_signed
from tests.conftest import ServerProcess
from tests.signing import signed_headers


def send(server: ServerProcess, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(server.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


ZIP = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="  # an empty zip archive, base64


def test_a_cross_site_text_plain_create_function_is_refused_and_creates_nothing(server: ServerProcess, unique: str) -> None:
    document = {"FunctionName": f"drive-by-{unique}", "Runtime": "python3.12", "Handler": "h.h",
                "Role": "arn:aws:iam::000000000000:role/r", "Code": {"ZipFile": ZIP}}
    request = urllib.request.Request(server.url + "/2015-03-31/functions", data=json.dumps(document).encode(),
                                     method="POST", headers={"Content-Type": "text/plain", "Origin": "https://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert refused.value.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert json.load(refused.value)["message"] == "Missing Authentication Token"
    names = [f["FunctionName"] for f in server.client("lambda").list_functions()["Functions"]]
    assert f"drive-by-{unique}" not in names


def test_an_unsigned_form_post_is_refused_in_the_query_dialect(server: ServerProcess, unique: str) -> None:
    form = urllib.parse.urlencode({"Action": "CreateQueue", "QueueName": f"form-{unique}"}).encode()
    status, body = send(server, "POST", "/", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
    error = ET.fromstring(body).find("{*}Error")
    assert error is not None
    assert error.findtext("{*}Code") == "MissingAuthenticationToken"
    assert error.findtext("{*}Message") == "Request is missing Authentication Token"
    assert not server.client("sqs").list_queues(QueueNamePrefix=f"form-{unique}").get("QueueUrls")


def test_an_unsigned_json_request_is_refused_with_the_json_error(server: ServerProcess) -> None:
    status, body = send(server, "POST", "/", b"{}", {"X-Amz-Target": "AmazonSQS.ListQueues",
                                                     "Content-Type": "application/x-amz-json-1.0"})
    assert status == 403
    assert json.loads(body)["__type"].endswith("MissingAuthenticationTokenException")


def test_a_signed_raw_request_is_served(server: ServerProcess) -> None:
    headers = signed_headers("POST", server.url + "/", b"{}", {"X-Amz-Target": "AmazonSQS.ListQueues",
                                                               "Content-Type": "application/x-amz-json-1.0"}, "sqs")
    status, _ = send(server, "POST", "/", b"{}", headers)
    assert status == 200


def test_a_presigned_url_is_served_without_an_authorization_header(server: ServerProcess, unique: str) -> None:
    sns = server.client("sns")
    arn = sns.create_topic(Name=f"presigned-{unique}")["TopicArn"]
    url = sns.generate_presigned_url("get_topic_attributes", Params={"TopicArn": arn}, HttpMethod="GET")
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200 and arn in response.read().decode()


def test_a_json_body_in_a_non_json_content_type_is_refused_even_when_signed(server: ServerProcess, unique: str) -> None:
    body = json.dumps({"Name": f"s-{unique}", "ScheduleExpression": "rate(1 minute)", "FlexibleTimeWindow": {
        "Mode": "OFF"}, "Target": {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"}}
    ).encode()
    url = f"{server.url}/schedules/s-{unique}"
    status, answer = send(server, "POST", f"/schedules/s-{unique}", body,
                          signed_headers("POST", url, body, {"Content-Type": "text/plain"}, "scheduler"))
    assert status == 415, answer


def test_a_foreign_host_header_is_refused_everywhere(server: ServerProcess) -> None:
    for path in ("/_eventyard/health", "/"):
        status, body = send(server, "GET", path, None, {"Host": "attacker.example:4566"})
        assert status == 403 and b"EVENTYARD_ALLOWED_HOSTS" in body
    assert send(server, "GET", "/_eventyard/health", None, {"Host": f"localhost:{server.port}"})[0] == 200


def test_a_cross_site_post_to_an_eventyard_endpoint_is_refused(server: ServerProcess) -> None:
    status, _ = send(server, "POST", "/_eventyard/clock", b'{"advance": 1}',
                     {"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert status == 403
    status, _ = send(server, "POST", "/_eventyard/clock", b'{"advance": 0}', {"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert send(server, "POST", "/_eventyard/clock", b'{"advance": 0}', {})[0] == 200


def test_configured_hosts_are_allowed_and_star_allows_any() -> None:
    policy = HostPolicy(["eventyard.internal"])
    for host in ("localhost:4566", "127.0.0.1", "[::1]:4566", "127.0.0.2:80", "eventyard.internal:4566",
                 "sync-localhost:4566", "streaming-127.0.0.1", "api.localhost", "http://127.0.0.1:4566",
                 "https://localhost/"):
        assert policy.allows(host), host
    for host in ("evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "", None, "a b",
                 "http://evil.example:4566", "https://evil.example/localhost"):
        assert not policy.allows(host), host
    assert HostPolicy(["*"]).allows("anything.example")


@pytest.mark.parametrize("authorization,signed", [
    ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=" + "a" * 64, True),
    ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=xyz", False),
    ("Basic dXNlcjpwYXNz", False),
])
def test_only_sigv4_shaped_authorization_counts_as_signed(authorization: str, signed: bool) -> None:
    request = HttpRequest("POST", "/", "", {"authorization": authorization}, b"")
    assert is_signed(request) is signed

"""Delivery guarantees through boto3: API destinations with auth, retries then the DLQ, archives and
replays, scheduled rules on a moved clock, and durability across SIGKILL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import ServerProcess, free_port
from tests.events.conftest import bodies, make_queue, put, receive


class Endpoint:
    """An HTTP endpoint run by the test: records requests, answers `status`."""

    def __init__(self, port: int | None = None) -> None:
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path.startswith("/token"):
                    payload = json.dumps({"access_token": "tok-1", "expires_in": 3600}).encode()
                    self.send_response(200)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                endpoint.requests.append({"path": self.path, "headers": headers, "body": body.decode()})
                self.send_response(endpoint.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.requests


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()


def api_destination(events: Any, name: str, url: str, auth: str = "API_KEY") -> str:
    params = {
        "API_KEY": {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "secret-key"}},
        "BASIC": {"BasicAuthParameters": {"Username": "u", "Password": "p"}},
        "OAUTH_CLIENT_CREDENTIALS": {"OAuthParameters": {
            "ClientParameters": {"ClientID": "id", "ClientSecret": "s"},
            "AuthorizationEndpoint": f"{url}/token", "HttpMethod": "POST"}},
    }[auth]
    connection = events.create_connection(Name=f"c-{name}", AuthorizationType=auth, AuthParameters=params)
    return str(events.create_api_destination(
        Name=f"d-{name}", ConnectionArn=connection["ConnectionArn"], InvocationEndpoint=f"{url}/hook/*",
        HttpMethod="POST", InvocationRateLimitPerSecond=50)["ApiDestinationArn"])


@pytest.mark.parametrize("auth, header, value", [
    ("API_KEY", "x-api-key", "secret-key"),
    ("BASIC", "authorization", "Basic dTpw"),
    ("OAUTH_CLIENT_CREDENTIALS", "authorization", "Bearer tok-1"),
])
def test_api_destinations_call_the_endpoint_with_the_connection_auth(
        events: Any, endpoint: Endpoint, unique: str, auth: str, header: str, value: str) -> None:
    arn = api_destination(events, f"{auth[:5]}-{unique}", endpoint.url, auth)
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": arn, "RoleArn": "arn:aws:iam::000000000000:role/r",
                                                     "HttpParameters": {"PathParameterValues": ["p1"]}}])
    put(events, {"n": 1}, source=unique)
    [request] = endpoint.wait(1)
    assert request["path"] == "/hook/p1"
    assert request["headers"][header] == value
    assert json.loads(request["body"])["detail"] == {"n": 1}
    described = events.describe_connection(Name=f"c-{auth[:5]}-{unique}")
    assert "ApiKeyValue" not in json.dumps(described["AuthParameters"])
    assert "Password" not in json.dumps(described["AuthParameters"])


def test_a_failing_target_is_retried_then_sent_to_the_dlq_with_error_attributes(
        server: ServerProcess, events: Any, sqs: Any, endpoint: Endpoint, unique: str) -> None:
    endpoint.status = 500
    dlq_url, dlq_arn = make_queue(sqs, f"dlq-{unique}")
    arn = api_destination(events, unique, endpoint.url)
    rule_arn = events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}))["RuleArn"]
    events.put_targets(Rule=f"r-{unique}", Targets=[{
        "Id": "1", "Arn": arn, "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": dlq_arn}, "HttpParameters": {"PathParameterValues": ["x"]}}])
    event_id = put(events, {"n": 1}, source=unique)
    endpoint.wait(1)
    for _ in range(20):  # backoff waits are moved through by the clock, not slept
        if len(endpoint.requests) >= 3:
            break
        server.advance_clock(10)
        time.sleep(0.2)
    [message] = receive(sqs, dlq_url)
    assert len(endpoint.requests) == 3  # the first attempt and two retries
    assert json.loads(message["Body"])["id"] == event_id
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == rule_arn
    assert attributes["TARGET_ARN"] == arn
    assert attributes["ERROR_CODE"] == "SDK_CLIENT_ERROR"
    assert "500" in attributes["ERROR_MESSAGE"]


def test_a_client_error_goes_to_the_dlq_without_retries(events: Any, sqs: Any, endpoint: Endpoint, unique: str) -> None:
    endpoint.status = 400
    dlq_url, dlq_arn = make_queue(sqs, f"dlq-{unique}")
    arn = api_destination(events, unique, endpoint.url)
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": arn, "DeadLetterConfig": {"Arn": dlq_arn},
                                                     "HttpParameters": {"PathParameterValues": ["x"]}}])
    put(events, {"n": 1}, source=unique)
    assert len(receive(sqs, dlq_url)) == 1
    assert len(endpoint.requests) == 1


def test_a_missing_queue_target_goes_to_the_dlq(events: Any, sqs: Any, unique: str) -> None:
    dlq_url, dlq_arn = make_queue(sqs, f"dlq-{unique}")
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}))
    missing = f"arn:aws:sqs:us-east-1:000000000000:gone-{unique}"
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": missing, "DeadLetterConfig": {"Arn": dlq_arn}}])
    put(events, {"n": 1}, source=unique)
    [message] = receive(sqs, dlq_url)
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "RESOURCE_NOT_FOUND"


def test_archived_events_are_replayed_to_the_bus_rules_with_a_replay_name(
        fresh_server: ServerProcess, unique: str) -> None:
    # a server of its own: replay windows are in server time, which other tests move forward
    events, sqs = fresh_server.client("events"), fresh_server.client("sqs")
    url, arn = make_queue(sqs, f"q-{unique}")
    bus_arn = events.create_event_bus(Name=f"b-{unique}")["EventBusArn"]
    archive = events.create_archive(ArchiveName=f"a-{unique}", EventSourceArn=bus_arn,
                                    EventPattern=json.dumps({"detail": {"keep": [True]}}), RetentionDays=1)
    assert archive["State"] == "ENABLED"
    start = datetime.now(UTC) - timedelta(minutes=1)
    put(events, {"keep": True, "n": 1}, source=unique, bus=bus_arn)
    put(events, {"keep": False, "n": 2}, source=unique, bus=bus_arn)
    assert events.describe_archive(ArchiveName=f"a-{unique}")["EventCount"] == 1
    rule_arn = events.put_rule(Name="r", EventBusName=bus_arn, EventPattern=json.dumps({"source": [unique]}))["RuleArn"]
    events.put_targets(Rule="r", EventBusName=bus_arn, Targets=[{"Id": "q", "Arn": arn}])
    time.sleep(0.01)
    end = datetime.now(UTC)
    replay = events.start_replay(ReplayName=f"rp-{unique}", EventSourceArn=archive["ArchiveArn"],
                                 EventStartTime=start, EventEndTime=end,
                                 Destination={"Arn": bus_arn, "FilterArns": [rule_arn]})
    assert replay["State"] == "STARTING"
    [event] = bodies(receive(sqs, url))
    assert event["replay-name"] == f"rp-{unique}" and event["detail"]["n"] == 1
    deadline = time.monotonic() + 5
    while events.describe_replay(ReplayName=f"rp-{unique}")["State"] != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert events.describe_replay(ReplayName=f"rp-{unique}")["State"] == "COMPLETED"
    assert [r["ReplayName"] for r in events.list_replays(NamePrefix=f"rp-{unique}")["Replays"]] == [f"rp-{unique}"]
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as error:
        events.cancel_replay(ReplayName=f"rp-{unique}")
    assert error.value.response["Error"]["Code"] == "IllegalStatusException"
    with pytest.raises(ClientError) as error:
        events.start_replay(ReplayName=f"bad-{unique}", EventSourceArn=archive["ArchiveArn"],
                            EventStartTime=end, EventEndTime=start, Destination={"Arn": bus_arn})
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_a_rate_rule_fires_when_the_clock_moves(fresh_server: ServerProcess, unique: str) -> None:
    events, sqs = fresh_server.client("events"), fresh_server.client("sqs")
    url, arn = make_queue(sqs, f"q-{unique}")
    rule_arn = events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])
    assert receive(sqs, url, timeout=1) == []
    fresh_server.advance_clock(61)
    [event] = bodies(receive(sqs, url))
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["resources"] == [rule_arn]
    fresh_server.advance_clock(60)
    assert len(receive(sqs, url)) == 1


def test_accepted_events_and_pending_retries_survive_sigkill(fresh_server: ServerProcess, unique: str) -> None:
    port = free_port()
    events = fresh_server.client("events")
    arn = api_destination(events, unique, f"http://127.0.0.1:{port}")  # nothing listens yet: retried
    events.put_rule(Name="r", EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule="r", Targets=[{"Id": "1", "Arn": arn, "HttpParameters": {"PathParameterValues": ["k"]}}])
    put(events, {"n": 1}, source=unique)
    put(events, {"n": 2}, source=unique)
    fresh_server.kill()
    fresh_server.start()
    endpoint = Endpoint(port)
    try:
        for _ in range(30):
            if len(endpoint.requests) >= 2:
                break
            fresh_server.advance_clock(30)
            time.sleep(0.2)
        assert sorted(json.loads(r["body"])["detail"]["n"] for r in endpoint.requests[:2]) == [1, 2]
    finally:
        endpoint.close()

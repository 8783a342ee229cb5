"""EventBridge behaviour recorded against AWS (LocalStack's AWS-validated suite): input transformer
output, target and replay validation, schedule syntax, API destination states, validation wording,
cross-region forwarding and archive sizes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventyard.services.transform import render_input
from tests.conftest import ServerProcess
from tests.events.conftest import bodies, make_queue, put, receive


def error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


@pytest.fixture
def unchecked_events(server: ServerProcess) -> Any:
    return boto3.client("events", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(parameter_validation=False))


def _rule_to_queue(events: Any, sqs: Any, name: str, **target: Any) -> str:
    url, arn = make_queue(sqs, name)
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["recorded.app"]}))
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn, **target}])
    return url


EVENT = {"version": "0", "id": "e-1", "detail-type": "thing", "source": "recorded.app", "account": "000000000000",
         "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
         "detail": {"payload": {"acc_id": "a1", "sf_id": "baz"}, "list": ["HIGH", "LOW"]}}


def _render(paths: dict[str, str], template: str) -> str | None:
    target = {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}}
    return render_input(target, EVENT, "rule", "arn:aws:events:us-east-1:000000000000:rule/rule", 0.0)


def test_input_transformer_rendering() -> None:
    # A missing path outside quotes is "" in a JSON template.
    assert json.loads(_render({"a": "$.detail.none"}, '{"a": <a>}') or "") == {"a": ""}
    # Objects and lists in text lose their quotes.
    assert _render({"p": "$.detail.payload", "l": "$.detail.list"}, '"<p> and <l>"') == \
        '"{acc_id:a1,sf_id:baz} and [HIGH,LOW]"'
    # An object inside quotes in a JSON template makes no JSON: no target gets it.
    assert _render({"p": "$.detail.payload"}, '{"x": "<p>"}') is None
    rendered = json.loads(_render({}, '{"e": <aws.events.event>}') or "")["e"]
    assert rendered["detailType"] == "thing" and "detail" not in rendered and "detail-type" not in rendered


def test_input_transformer_delivers_the_rendering(events: Any, sqs: Any, unique: str) -> None:
    url = _rule_to_queue(events, sqs, f"it-{unique}", InputTransformer={
        "InputPathsMap": {"p": "$.detail.payload", "missing": "$.detail.none"},
        "InputTemplate": '{"p": <p>, "missing": <missing>}'})
    put(events, {"payload": {"k": "v"}}, source="recorded.app")
    assert bodies(receive(sqs, url)) == [{"p": {"k": "v"}, "missing": ""}]


def test_target_validation(events: Any, unchecked_events: Any, unique: str) -> None:
    events.put_rule(Name=f"tv-{unique}", EventPattern=json.dumps({"source": ["x"]}))
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    cases = [
        ({"Id": "t1", "Arn": queue, "InputTransformer": {"InputPathsMap": {"a": "$.a"}, "InputTemplate": '"<a> <b>"'}},
         "InputTemplate for target t1 contains invalid placeholder b."),
        ({"Id": "t2", "Arn": queue, "Input": "{}", "InputPath": "$.detail"},
         "Only one of Input, InputPath, or InputTransformer must be provided for target t2."),
        ({"Id": "t3", "Arn": "invalid-arn"}, "Parameter invalid-arn is not valid. Reason: Provided Arn is not in "
                                             "correct format."),
    ]
    for target, message in cases:
        with pytest.raises(ClientError) as raised:
            unchecked_events.put_targets(Rule=f"tv-{unique}", Targets=[target])
        assert error(raised) == ("ValidationException", message)


@pytest.mark.parametrize("expression", ["rate( 10 minutes )", " rate(10 minutes)", "rate(10  minutes)"])
def test_spaces_around_a_rate_are_invalid(events: Any, unique: str, expression: str) -> None:
    with pytest.raises(ClientError) as raised:
        events.put_rule(Name=f"r-{unique}", ScheduleExpression=expression)
    assert error(raised) == ("ValidationException", "Parameter ScheduleExpression is not valid.")


def test_replay_validation(events: Any, unique: str) -> None:
    bus_arn = events.create_event_bus(Name=f"rb-{unique}")["EventBusArn"]
    archive_arn = events.create_archive(ArchiveName=f"ra-{unique}", EventSourceArn=bus_arn)["ArchiveArn"]
    now = datetime.now(UTC)
    window = {"EventStartTime": now - timedelta(minutes=1), "EventEndTime": now + timedelta(minutes=1)}
    missing_bus = bus_arn.replace(f"rb-{unique}", f"none-{unique}")
    with pytest.raises(ClientError) as raised:
        events.start_replay(ReplayName=f"x-{unique}", EventSourceArn=archive_arn, Destination={"Arn": missing_bus},
                            **window)
    assert error(raised) == ("ResourceNotFoundException", f"Event bus none-{unique} does not exist.")
    with pytest.raises(ClientError) as raised:
        events.start_replay(ReplayName=f"x-{unique}", EventSourceArn=archive_arn.replace("ra-", "none-"),
                            Destination={"Arn": bus_arn}, **window)
    assert error(raised) == ("ValidationException", f"Parameter EventSourceArn is not valid. Reason: Archive "
                             f"none-{unique} does not exist.")
    # An end in the future is accepted.
    events.start_replay(ReplayName=f"ok-{unique}", EventSourceArn=archive_arn, Destination={"Arn": bus_arn}, **window)


def test_oauth_connections_authorize_before_their_destinations_are_active(events: Any, unique: str) -> None:
    oauth = events.create_connection(Name=f"o-{unique}", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                     AuthParameters={"OAuthParameters": {
                                         "AuthorizationEndpoint": "https://example.invalid/oauth", "HttpMethod": "put",
                                         "ClientParameters": {"ClientID": "id", "ClientSecret": "secret"}}})
    assert oauth["ConnectionState"] == "AUTHORIZING"
    basic = events.create_connection(Name=f"b-{unique}", AuthorizationType="BASIC", AuthParameters={
        "BasicAuthParameters": {"Username": "u", "Password": "p"}})
    assert basic["ConnectionState"] == "AUTHORIZED"
    for name, connection, state in (("od", oauth, "INACTIVE"), ("bd", basic, "ACTIVE")):
        made = events.create_api_destination(Name=f"{name}-{unique}", ConnectionArn=connection["ConnectionArn"],
                                             InvocationEndpoint="https://example.invalid/api", HttpMethod="POST")
        assert made["ApiDestinationState"] == state
        assert events.describe_api_destination(Name=f"{name}-{unique}")["ApiDestinationState"] == state


def test_validation_wording(unchecked_events: Any) -> None:
    with pytest.raises(ClientError) as raised:
        unchecked_events.create_api_destination(Name="d", ConnectionArn="invalid-connection-arn",
                                                InvocationEndpoint="https://example.invalid", HttpMethod="INVALID")
    assert error(raised)[1].endswith("Value 'INVALID' at 'httpMethod' failed to satisfy constraint: Member must "
                                     "satisfy enum value set: [HEAD, POST, PATCH, DELETE, PUT, GET, OPTIONS]")
    name = "This should fail with two errors " + "1" * 40
    with pytest.raises(ClientError) as raised:
        unchecked_events.create_connection(Name=name, AuthorizationType="BASIC", AuthParameters={})
    message = error(raised)[1]
    assert message.index("regular expression pattern") < message.index("length less than or equal to 64")
    entry = {"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "default"}
    with pytest.raises(ClientError) as raised:
        unchecked_events.put_events(Entries=[entry] * 11)
    assert error(raised)[1].startswith(
        "1 validation error detected: Value '[PutEventsRequestEntry(time=null, source=s, resources=null, "
        "detailType=t, detail={}, eventBusName=default, traceHeader=null, kmsKeyIdentifier=null, "
        "internalMetadata=null), PutEventsRequestEntry(")


def test_forwarding_to_another_region_gives_a_new_event_id(server: ServerProcess, unique: str) -> None:
    east, west = server.client("events"), server.client("events", region="us-west-2")
    west_sqs = server.client("sqs", region="us-west-2")
    west_bus = west.create_event_bus(Name=f"west-{unique}")["EventBusArn"]
    url, arn = make_queue(west_sqs, f"west-{unique}")
    west.put_rule(Name="all", EventBusName=f"west-{unique}", EventPattern=json.dumps({"source": ["recorded.app"]}))
    west.put_targets(Rule="all", EventBusName=f"west-{unique}", Targets=[{"Id": "q", "Arn": arn}])
    east.put_rule(Name=f"fwd-{unique}", EventPattern=json.dumps({"source": ["recorded.app"]}))
    east.put_targets(Rule=f"fwd-{unique}", Targets=[{"Id": "bus", "Arn": west_bus,
                                                     "RoleArn": "arn:aws:iam::000000000000:role/r"}])
    original = put(east, {"n": 1}, source="recorded.app")
    [forwarded] = bodies(receive(west_sqs, url))
    assert forwarded["id"] != original and forwarded["region"] == "us-east-1"


def test_archive_size_counts_the_entry(events: Any, unique: str) -> None:
    bus_arn = events.create_event_bus(Name=f"sz-{unique}")["EventBusArn"]
    events.create_archive(ArchiveName=f"sz-{unique}", EventSourceArn=bus_arn)
    detail = json.dumps({"command": "update-account"})
    events.put_events(Entries=[{"Source": "core.src", "DetailType": "core.type", "Detail": detail,
                                "EventBusName": f"sz-{unique}"}])
    deadline = time.monotonic() + 10
    while (described := events.describe_archive(ArchiveName=f"sz-{unique}"))["EventCount"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert described["SizeBytes"] == len("core.src") + len("core.type") + len(detail) + len("2024-01-01T00:00:00Z")


def test_a_log_group_target_writes_each_event_to_a_stream_named_by_its_id(server: ServerProcess,
                                                                        unique: str) -> None:
    events, logs = server.client("events"), server.client("logs")
    group = f"/aws/events/{unique}"
    logs.create_log_group(logGroupName=group)
    events.put_rule(Name=f"lg-{unique}", EventPattern=json.dumps({"source": [f"lg.{unique}"]}))
    events.put_targets(Rule=f"lg-{unique}", Targets=[
        {"Id": "whole", "Arn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"},
        {"Id": "shaped", "Arn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*", "InputTransformer": {
            "InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"message": "n is <n>"}'}}])
    event_id = put(events, {"n": 7}, source=f"lg.{unique}")

    def messages() -> list[str]:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        if event_id not in [s["logStreamName"] for s in streams]:
            return []
        return sorted(e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=event_id,
                                                                startFromHead=True)["events"])

    deadline = time.monotonic() + 10
    while len(written := messages()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert written[0] == "n is 7" and json.loads(written[1])["id"] == event_id

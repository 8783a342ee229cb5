"""PutEvents through boto3: entry validation, the envelope, routing by every operator class, FIFO
and cross-bus targets, input transformation and the trace header reaching SQS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.events.conftest import bodies, make_queue, put, receive


def test_invalid_entries_get_aws_error_codes_while_valid_ones_are_accepted(events: Any) -> None:
    answer = events.put_events(Entries=[
        {"DetailType": "t", "Detail": "{}"},
        {"Source": "s", "Detail": "{}"},
        {"Source": "s", "DetailType": "t"},
        {"Source": "s", "DetailType": "t", "Detail": "[1]"},
        {"Source": "aws.ec2", "DetailType": "t", "Detail": "{}"},
        {"Source": "s", "DetailType": "t", "Detail": "{}"},
    ])
    assert answer["FailedEntryCount"] == 5
    entries = answer["Entries"]
    assert [e.get("ErrorCode") for e in entries] == [
        "InvalidArgument", "InvalidArgument", "InvalidArgument", "MalformedDetail",
        "NotAuthorizedForSourceException", None]
    assert entries[0]["ErrorMessage"] == "Parameter Source is not valid. Reason: Source is a required argument."
    assert entries[3]["ErrorMessage"] == "Detail is malformed."
    assert len(entries[5]["EventId"]) == 36


def test_more_than_ten_entries_are_refused(events: Any) -> None:
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as error:
        events.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}"}] * 11)
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_a_delivered_event_carries_the_full_envelope(events: Any, sqs: Any, unique: str) -> None:
    url, arn = make_queue(sqs, f"q-{unique}")
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"detail": {"k": [unique]}}))
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": arn}])
    event_id = put(events, {"k": unique}, Resources=["arn:aws:s3:::b"])
    [event] = bodies(receive(sqs, url))
    assert event == {"version": "0", "id": event_id, "detail-type": "thing", "source": "my.app",
                     "account": "000000000000", "time": event["time"], "region": "us-east-1",
                     "resources": ["arn:aws:s3:::b"], "detail": {"k": unique}}


OPERATORS = [
    ("exact", {"v": ["x1"]}, {"v": "x1"}, {"v": "x2"}),
    ("prefix", {"v": [{"prefix": "ab"}]}, {"v": "abc"}, {"v": "bc"}),
    ("suffix", {"v": [{"suffix": ".png"}]}, {"v": "a.png"}, {"v": "a.jpg"}),
    ("equals-ignore-case", {"v": [{"equals-ignore-case": "AbC"}]}, {"v": "abc"}, {"v": "abd"}),
    ("wildcard", {"v": [{"wildcard": "a*z"}]}, {"v": "abcz"}, {"v": "abc"}),
    ("anything-but", {"v": [{"anything-but": ["x"]}]}, {"v": "y"}, {"v": "x"}),
    ("numeric", {"v": [{"numeric": [">", 0, "<=", 5]}]}, {"v": 5}, {"v": 6}),
    ("exists", {"v": [{"exists": False}]}, {"w": 1}, {"v": 1}),
    ("cidr", {"v": [{"cidr": "10.0.0.0/24"}]}, {"v": "10.0.0.7"}, {"v": "10.0.1.7"}),
    ("or", {"$or": [{"v": [1]}, {"w": [2]}]}, {"w": 2}, {"w": 3}),
]


def test_rules_route_by_every_operator_class(events: Any, sqs: Any, unique: str) -> None:
    url, arn = make_queue(sqs, f"op-{unique}")
    entries = []
    for name, condition, hit, miss in OPERATORS:
        rule = f"op-{name}-{unique}"
        events.put_rule(Name=rule, EventPattern=json.dumps({"source": [unique], "detail": {"op": [name], **condition}}))
        events.put_targets(Rule=rule, Targets=[{"Id": "1", "Arn": arn}])
        for tag, detail in (("miss", miss), ("hit", hit)):
            entries.append({"Source": unique, "DetailType": "t", "Detail": json.dumps({**detail, "op": name, "tag": tag})})
    for start in range(0, len(entries), 10):
        assert events.put_events(Entries=entries[start:start + 10])["FailedEntryCount"] == 0
    got = bodies(receive(sqs, url, count=len(OPERATORS) + 1, timeout=2))
    assert sorted((e["detail"]["op"], e["detail"]["tag"]) for e in got) == sorted((o[0], "hit") for o in OPERATORS)


def test_disabled_rules_do_not_route(events: Any, sqs: Any, unique: str) -> None:
    url, arn = make_queue(sqs, f"q-{unique}")
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}), State="DISABLED")
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": arn}])
    put(events, {"n": 1}, source=unique)
    events.enable_rule(Name=f"r-{unique}")
    put(events, {"n": 2}, source=unique)
    # the first event was matched (against nothing) when it was put: only the second is queued
    assert [e["detail"]["n"] for e in bodies(receive(sqs, url))] == [2]


def test_fifo_targets_get_the_message_group_and_the_trace_header(events: Any, sqs: Any, unique: str) -> None:
    url, arn = make_queue(sqs, f"f-{unique}.fifo", FifoQueue="true")
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": arn,
                                                     "SqsParameters": {"MessageGroupId": "g1"}}])
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    put(events, {"n": 1}, source=unique, TraceHeader=trace)
    [message] = receive(sqs, url)
    assert message["Attributes"]["MessageGroupId"] == "g1"
    assert message["Attributes"]["AWSTraceHeader"] == trace


def test_the_request_trace_header_reaches_sqs_targets(events: Any, sqs: Any, unique: str) -> None:
    url, arn = make_queue(sqs, f"q-{unique}")
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": arn}])
    trace = "Root=1-5759e988-bd862e3fe1be46a994272794"

    def add_trace(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = trace

    events.meta.events.register("before-sign.events.PutEvents", add_trace)
    put(events, {"n": 1}, source=unique)
    [message] = receive(sqs, url)
    assert message["Attributes"]["AWSTraceHeader"] == trace


def test_input_path_and_transformer_shape_what_targets_receive(events: Any, sqs: Any, unique: str) -> None:
    url, arn = make_queue(sqs, f"q-{unique}")
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule=f"r-{unique}", Targets=[
        {"Id": "const", "Arn": arn, "Input": '{"fixed": true}'},
        {"Id": "path", "Arn": arn, "InputPath": "$.detail.inner"},
        {"Id": "json", "Arn": arn, "InputTransformer": {
            "InputPathsMap": {"who": "$.detail.who", "n": "$.detail.n", "gone": "$.detail.missing"},
            "InputTemplate": '{"who": <who>, "n": <n>, "gone": <gone>, "text": "<who> has <n>",'
                             ' "rule": "<aws.events.rule-name>", "event": <aws.events.event.json>}'}},
        {"Id": "text", "Arn": arn, "InputTransformer": {
            "InputPathsMap": {"who": "$.detail.who"}, "InputTemplate": "<who> is here"}},
    ])
    put(events, {"who": "ann", "n": 3, "inner": {"a": [1]}}, source=unique)
    got = sorted(m["Body"] for m in receive(sqs, url, count=4))
    assert "ann is here" in got
    parsed = [json.loads(b) for b in got if b != "ann is here"]
    assert {"fixed": True} in parsed
    assert {"a": [1]} in parsed
    [rendered] = [p for p in parsed if "who" in p]
    # A missing path renders as "" (recorded against AWS; the documentation says null).
    assert rendered["who"] == "ann" and rendered["n"] == 3 and rendered["gone"] == ""
    assert rendered["text"] == "ann has 3" and rendered["rule"] == f"r-{unique}"
    assert rendered["event"]["detail"]["who"] == "ann"


def test_an_event_bus_target_forwards_events_to_another_bus(events: Any, sqs: Any, unique: str) -> None:
    url, arn = make_queue(sqs, f"q-{unique}")
    bus_arn = events.create_event_bus(Name=f"second-{unique}")["EventBusArn"]
    events.put_rule(Name=f"fwd-{unique}", EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule=f"fwd-{unique}", Targets=[{"Id": "bus", "Arn": bus_arn}])
    events.put_rule(Name=f"sink-{unique}", EventBusName=f"second-{unique}",
                    EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule=f"sink-{unique}", EventBusName=f"second-{unique}", Targets=[{"Id": "q", "Arn": arn}])
    event_id = put(events, {"hop": 1}, source=unique)
    [event] = bodies(receive(sqs, url))
    assert event["id"] == event_id and event["detail"] == {"hop": 1}


def test_events_for_a_bus_given_by_arn_are_routed(events: Any, sqs: Any, unique: str) -> None:
    url, arn = make_queue(sqs, f"q-{unique}")
    bus_arn = events.create_event_bus(Name=f"b-{unique}")["EventBusArn"]
    events.put_rule(Name="r", EventBusName=bus_arn, EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule="r", EventBusName=bus_arn, Targets=[{"Id": "q", "Arn": arn}])
    put(events, {"x": 1}, source=unique, bus=bus_arn)
    assert len(receive(sqs, url)) == 1


def test_an_sns_topic_target_publishes_the_event(server: Any, events: Any, sqs: Any, unique: str) -> None:
    sns = server.client("sns")
    url, arn = make_queue(sqs, f"q-{unique}")
    topic = sns.create_topic(Name=f"t-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [unique]}))
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "t", "Arn": topic}])
    event_id = put(events, {"via": "sns"}, source=unique)
    [event] = bodies(receive(sqs, url))
    assert event["id"] == event_id

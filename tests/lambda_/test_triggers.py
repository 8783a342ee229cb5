"""Functions triggered by other services (SNS, EventBridge), a handler written with aws-lambda-powertools'
batch utility, FilterCriteria on SQS and Kinesis mappings, and alias routing weights."""

from __future__ import annotations

import json
from typing import Any

from tests.lambda_.conftest import ROLE, eventually, make_zip
from tests.lambda_.test_kinesis_source import invocations, make_queue, make_stream, nothing_more

# Reports the event it got (and the trace id it saw) to the queue in $SEEN.
REPORTER = """
import json, os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["SEEN"], MessageBody=json.dumps(
        {"event": event, "trace": os.environ.get("_X_AMZN_TRACE_ID"), "function": context.function_name}))
    return {"ok": True}
"""

POWERTOOLS = """
import json, os, boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

processor = BatchProcessor(event_type=EventType.SQS)
sqs = boto3.client("sqs")

def record_handler(record: SQSRecord):
    body = record.json_body
    if body["bad"]:
        raise ValueError("cannot process " + record.message_id)
    sqs.send_message(QueueUrl=os.environ["SEEN"], MessageBody=json.dumps({"done": body["n"]}))

def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
"""


def create(server: Any, name: str, code: str, seen_url: str) -> str:
    lam = server.client("lambda")
    return str(lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                   Timeout=10, Code={"ZipFile": make_zip({"app.py": code})},
                                   Environment={"Variables": {"SEEN": seen_url}})["FunctionArn"])


def received(server: Any, url: str, count: int) -> list[dict[str, Any]]:
    sqs = server.client("sqs")
    seen: list[dict[str, Any]] = []

    def more() -> bool:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") or []:
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(seen) >= count
    eventually(more, 30)
    return seen


def test_an_sns_subscription_invokes_the_function_with_the_sns_event(server: Any, unique: str) -> None:
    seen_url, _ = make_queue(server, f"sns-seen-{unique}")
    function_arn = create(server, f"sns-{unique}", REPORTER, seen_url)
    sns = server.client("sns")
    topic = sns.create_topic(Name=f"topic-{unique}")["TopicArn"]
    server.client("lambda").add_permission(FunctionName=f"sns-{unique}", StatementId="sns", Action="lambda:InvokeFunction",
                                           Principal="sns.amazonaws.com", SourceArn=topic)
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
    message_id = sns.publish(TopicArn=topic, Message="hello lambda", Subject="greeting", MessageAttributes={
        "color": {"DataType": "String", "StringValue": "blue"}})["MessageId"]
    [got] = received(server, seen_url, 1)
    [record] = got["event"]["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == subscription
    body = record["Sns"]
    assert body["Type"] == "Notification" and body["MessageId"] == message_id and body["TopicArn"] == topic
    assert body["Message"] == "hello lambda" and body["Subject"] == "greeting"
    assert body["MessageAttributes"] == {"color": {"Type": "String", "Value": "blue"}}
    assert body["SignatureVersion"] == "1" and body["Signature"] and body["SigningCertUrl"].startswith("http")
    assert body["UnsubscribeUrl"].startswith("http") and body["Timestamp"].endswith("Z")
    assert got["trace"].startswith("Root=1-")


def test_an_eventbridge_rule_invokes_the_function_with_the_event(server: Any, unique: str) -> None:
    seen_url, _ = make_queue(server, f"eb-seen-{unique}")
    function_arn = create(server, f"eb-{unique}", REPORTER, seen_url)
    events = server.client("events")
    rule_arn = events.put_rule(Name=f"rule-{unique}", EventPattern=json.dumps({"source": [f"app.{unique}"]}))["RuleArn"]
    server.client("lambda").add_permission(FunctionName=f"eb-{unique}", StatementId="events",
                                           Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                                           SourceArn=rule_arn)
    events.put_targets(Rule=f"rule-{unique}", Targets=[{"Id": "fn", "Arn": function_arn}])
    answer = events.put_events(Entries=[
        {"Source": f"app.{unique}", "DetailType": "order placed", "Detail": json.dumps({"order": 7}),
         "Resources": ["arn:aws:s3:::bucket"], "TraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
        {"Source": "someone.else", "DetailType": "ignored", "Detail": "{}"}])
    assert answer["FailedEntryCount"] == 0
    [got] = received(server, seen_url, 1)
    event = got["event"]
    assert event["version"] == "0" and event["id"] == answer["Entries"][0]["EventId"]
    assert event["detail-type"] == "order placed" and event["source"] == f"app.{unique}"
    assert event["account"] == "000000000000" and event["region"] == "us-east-1"
    assert event["resources"] == ["arn:aws:s3:::bucket"] and event["detail"] == {"order": 7}
    assert event["time"].endswith("Z")
    assert "Root=1-5759e988-bd862e3fe1be46a994272793" in got["trace"]  # the event's trace reaches the handler
    nothing_more(server, seen_url, 1.0)


def test_a_powertools_batch_handler_reports_partial_failures_unchanged(server: Any, unique: str) -> None:
    sqs, lam = server.client("sqs"), server.client("lambda")
    seen_url, _ = make_queue(server, f"pt-seen-{unique}")
    dlq_url, dlq_arn = make_queue(server, f"pt-dlq-{unique}")
    url, arn = make_queue(server, f"pt-src-{unique}")
    # The failed message comes back when the server's clock passes its visibility timeout, never
    # because a slow machine's cold start outlasted a short one.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "300", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})
    create(server, f"pt-{unique}", POWERTOOLS, seen_url)
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(n), "MessageBody": json.dumps({"n": n, "bad": n == 2})} for n in range(4)])
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=f"pt-{unique}", BatchSize=10,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])

    def counts() -> tuple[str, str]:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]

    try:
        done = received(server, seen_url, 3)
        assert sorted(d["done"] for d in done) == [0, 1, 3]
        eventually(lambda: counts() == ("0", "1"), 30)  # the bad one, reported failed, waits out its timeout
        server.advance_clock(301)
        eventually(lambda: counts() == ("0", "1"), 30)  # received (and failed) a second time
        server.advance_clock(301)  # its receive count has reached maxReceiveCount: the next receive moves it
        message = eventually(lambda: (sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages")
                                      or [None])[0], 30)
        assert json.loads(message["Body"]) == {"n": 2, "bad": True}

        def drained() -> bool:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            return attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
        eventually(drained, 10)
        nothing_more(server, seen_url, 0.5)  # the good messages were not delivered again
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_filter_criteria_drop_sqs_messages_that_match_no_filter(server: Any, unique: str) -> None:
    sqs, lam = server.client("sqs"), server.client("lambda")
    seen_url, _ = make_queue(server, f"f-seen-{unique}")
    url, arn = make_queue(server, f"f-src-{unique}")
    create(server, f"filter-{unique}", REPORTER, seen_url)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=f"filter-{unique}", BatchSize=1,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"], "size": [{"numeric": [">", 3]}]}})},
                                    {"Pattern": json.dumps({"body": [{"prefix": "urgent"}]})}]})
    try:
        assert json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"])["body"]["kind"] == ["keep"]
        bodies = [json.dumps({"kind": "keep", "size": 5}), json.dumps({"kind": "keep", "size": 1}),
                  json.dumps({"kind": "drop", "size": 9}), "urgent: plain text", "plain text"]
        for body in bodies:
            sqs.send_message(QueueUrl=url, MessageBody=body)
        got = received(server, seen_url, 2)
        delivered = sorted(json.dumps(g["event"]["Records"][0]["body"]) for g in got)
        assert delivered == sorted(json.dumps(b) for b in (bodies[0], bodies[3]))

        def drained() -> bool:  # AWS deletes what no filter matches
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            return attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
        eventually(drained, 10)
        nothing_more(server, seen_url, 0.5)
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_filter_criteria_match_kinesis_records_on_their_json_data(server: Any, unique: str) -> None:
    lam = server.client("lambda")
    stream_arn = make_stream(server, f"fk-{unique}")
    seen_url, _ = make_queue(server, f"fk-seen-{unique}.fifo")
    from tests.lambda_.test_kinesis_source import make_recorder

    make_recorder(server, f"fk-{unique}", seen_url)
    server.client("kinesis").put_records(StreamName=f"fk-{unique}", Records=[
        {"Data": d.encode(), "PartitionKey": "p"} for d in
        (json.dumps({"kind": "keep", "n": 1}), json.dumps({"kind": "drop"}), "not json",
         json.dumps({"kind": "keep", "n": 2}))])
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=f"fk-{unique}", StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["keep"]}})}]})
    try:
        [call] = invocations(server, seen_url, 1)
        assert [json.loads(d)["n"] for d in call["data"]] == [1, 2]
        nothing_more(server, seen_url, 1.0)
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_an_alias_with_routing_weights_splits_invocations_between_versions(server: Any, unique: str) -> None:
    lam = server.client("lambda")
    name = f"weights-{unique}"
    code = "import os\ndef handler(event, context):\n    return os.environ['AWS_LAMBDA_FUNCTION_VERSION']\n"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": code})}, Publish=True)
    lam.update_function_configuration(FunctionName=name, Description="second")
    eventually(lambda: lam.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == "Successful")
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.3}}
    counts = {"1": 0, "2": 0}
    for _ in range(120):
        answer = lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
        assert json.loads(answer["Payload"].read()) == answer["ExecutedVersion"]
        counts[answer["ExecutedVersion"]] += 1
    # Binomial(120, 0.3): mean 36, sd 5; these bounds are over 4 sd away.
    assert 14 <= counts["2"] <= 60 and counts["1"] + counts["2"] == 120
    lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {}})
    assert {lam.invoke(FunctionName=f"{name}:live", Payload=b"{}")["ExecutedVersion"] for _ in range(10)} == {"1"}
    lam.delete_function(FunctionName=name)

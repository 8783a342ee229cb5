"""Delivery faults end to end through boto3: EventBridge targets and SNS subscriptions delivered twice,
held back on the clock, or failing until their retry policy hands them to a dead-letter queue;
Lambda invocations failing; Kinesis entries stored twice; event source mapping batches delivered twice."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from tests.conftest import ServerProcess
from tests.events.conftest import make_queue, receive
from tests.faults.conftest import fault_counts, set_faults
from tests.lambda_.conftest import ROLE, make_zip


def rule_to_queue(events: Any, name: str, queue_arn: str, **target: Any) -> str:
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": queue_arn, **target}])
    return str(rule_arn)


def put_events(events: Any, source: str, count: int) -> list[str]:
    entries = [{"Source": source, "DetailType": "order", "Detail": json.dumps({"n": n})} for n in range(count)]
    answer = events.put_events(Entries=entries)
    assert answer["FailedEntryCount"] == 0
    return [entry["EventId"] for entry in answer["Entries"]]


def test_an_eventbridge_rules_queue_target_receives_each_event_twice(faulty: ServerProcess, unique: str) -> None:
    events, sqs = faulty.client("events"), faulty.client("sqs")
    url, arn = make_queue(sqs, f"eb-dup-{unique}")
    rule_to_queue(events, f"dup-{unique}", arn)
    set_faults(faulty, [{"service": "events", "resource": f"dup-{unique}", "fault": "duplicate"}])
    ids = put_events(events, f"dup-{unique}", 3)
    got = receive(sqs, url, count=6)
    assert Counter(json.loads(m["Body"])["id"] for m in got) == {event_id: 2 for event_id in ids}
    assert not receive(sqs, url, count=1, timeout=1.5)


def test_a_failing_target_goes_to_its_dead_letter_queue_after_its_retry_policy(
        fresh_server: ServerProcess, unique: str) -> None:
    events, sqs = fresh_server.client("events"), fresh_server.client("sqs")
    url, arn = make_queue(sqs, f"target-{unique}")
    dlq_url, dlq_arn = make_queue(sqs, f"dlq-{unique}")
    rule_arn = rule_to_queue(events, f"fail-{unique}", arn, RetryPolicy={"MaximumRetryAttempts": 2},
                             DeadLetterConfig={"Arn": dlq_arn})
    set_faults(fresh_server, [{"service": "events", "resource": arn, "fault": "fail"}])
    [event_id] = put_events(events, f"fail-{unique}", 1)
    dead: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while not dead and time.monotonic() < deadline:
        fresh_server.advance_clock(5)  # the retries back off 1, 2 s (with jitter) on the server's clock
        dead = receive(sqs, dlq_url, count=1, timeout=1.0)
    [message] = dead
    assert json.loads(message["Body"])["id"] == event_id
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == arn
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["ERROR_CODE"] == "INTERNAL_ERROR"
    assert not receive(sqs, url, count=1, timeout=1.0)  # the target never got it
    assert fault_counts(fresh_server) == [(3, 3)]


def test_a_delayed_target_delivery_waits_for_the_clock(fresh_server: ServerProcess, unique: str) -> None:
    events, sqs = fresh_server.client("events"), fresh_server.client("sqs")
    url, arn = make_queue(sqs, f"late-{unique}")
    rule_to_queue(events, f"late-{unique}", arn)
    set_faults(fresh_server, [{"service": "events", "resource": f"late-{unique}", "fault": "delay", "ms": 120_000}])
    [event_id] = put_events(events, f"late-{unique}", 1)
    assert not receive(sqs, url, count=1, timeout=2.0)
    fresh_server.restart()  # held back durably: a timer in the database, not a sleeping task
    fresh_server.advance_clock(121)
    [message] = receive(fresh_server.client("sqs"), url, count=1)
    assert json.loads(message["Body"])["id"] == event_id


def test_an_sns_subscription_receives_each_message_twice(faulty: ServerProcess, unique: str) -> None:
    sns, sqs = faulty.client("sns"), faulty.client("sqs")
    url, arn = make_queue(sqs, f"sns-dup-{unique}")
    topic = sns.create_topic(Name=f"t-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    set_faults(faulty, [{"service": "sns", "resource": topic, "fault": "duplicate"}])
    for n in range(3):
        sns.publish(TopicArn=topic, Message=f"m{n}")
    assert Counter(m["Body"] for m in receive(sqs, url, count=6)) == {"m0": 2, "m1": 2, "m2": 2}


def test_a_delayed_sns_delivery_to_a_fifo_queue_keeps_the_group_order(fresh_server: ServerProcess,
                                                                      unique: str) -> None:
    sns, sqs = fresh_server.client("sns"), fresh_server.client("sqs")
    url, arn = make_queue(sqs, f"ordered-{unique}.fifo", FifoQueue="true")
    topic = sns.create_topic(Name=f"t-{unique}.fifo", Attributes={"FifoTopic": "true",
                                                                "ContentBasedDeduplication": "true"})["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    set_faults(fresh_server, [{"service": "sns", "resource": topic, "fault": "delay", "ms": 30_000,
                               "probability": 0.5}])
    for n in range(8):
        sns.publish(TopicArn=topic, Message=str(n), MessageGroupId="g")
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120  # each held-back delivery needs a move of the clock; generous for slow hosts
    while len(got) < 8 and time.monotonic() < deadline:
        fresh_server.advance_clock(31)
        got += receive(sqs, url, count=8 - len(got), timeout=2.0)
    assert [m["Body"] for m in got] == [str(n) for n in range(8)]
    [(_, delayed)] = fault_counts(fresh_server)
    assert delayed > 0


def test_a_failed_lambda_invocation_is_a_function_error_that_reaches_the_failure_destination(
        faulty: ServerProcess, unique: str) -> None:
    lam, sqs = faulty.client("lambda"), faulty.client("sqs")
    url, arn = make_queue(sqs, f"on-failure-{unique}")
    name = f"fn-{unique}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return event\n"})})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    assert lam.invoke(FunctionName=name, Payload=b'{"ok": 1}')["Payload"].read() == b'{"ok": 1}'
    set_faults(faulty, [{"service": "lambda", "resource": name, "fault": "fail"}])
    answer = lam.invoke(FunctionName=name, Payload=b'{"ok": 2}')
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "Eventyard.InjectedFault"
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"ok": 3}')
    [record] = receive(sqs, url, count=1, timeout=15)
    document = json.loads(record["Body"])
    assert document["requestContext"]["condition"] == "RetriesExhausted"
    assert document["requestPayload"] == {"ok": 3}
    assert document["responseContext"]["functionError"] == "Unhandled"


def test_an_event_source_mapping_batch_is_delivered_twice(faulty: ServerProcess, unique: str) -> None:
    lam, sqs = faulty.client("lambda"), faulty.client("sqs")
    source_url, source_arn = make_queue(sqs, f"esm-src-{unique}")
    sink_url, _ = make_queue(sqs, f"esm-sink-{unique}")
    code = ("import boto3, os\ndef handler(event, context):\n    for r in event['Records']:\n"
            "        boto3.client('sqs').send_message(QueueUrl=os.environ['SINK'], MessageBody=r['messageId'])\n")
    name = f"esm-{unique}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": code})}, Environment={"Variables": {"SINK": sink_url}})
    mapping = lam.create_event_source_mapping(EventSourceArn=source_arn, FunctionName=name, BatchSize=10)
    set_faults(faulty, [{"service": "lambda", "resource": mapping["UUID"], "fault": "duplicate"}])
    try:
        sent = [sqs.send_message(QueueUrl=source_url, MessageBody=str(n))["MessageId"] for n in range(3)]
        got = receive(sqs, sink_url, count=6, timeout=30)
        assert Counter(m["Body"] for m in got) == {message_id: 2 for message_id in sent}
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_kinesis_stores_duplicated_entries_twice_and_answers_for_the_originals(
        faulty: ServerProcess, unique: str) -> None:
    kinesis = faulty.client("kinesis")
    stream = f"dup-{unique}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    set_faults(faulty, [{"service": "kinesis", "resource": stream, "operation": "PutRecords", "fault": "duplicate"}])
    answer = kinesis.put_records(StreamName=stream, Records=[{"Data": str(n).encode(), "PartitionKey": "k"}
                                                              for n in range(4)])
    assert answer["FailedRecordCount"] == 0 and len(answer["Records"]) == 4
    kinesis.put_record(StreamName=stream, Data=b"single", PartitionKey="k")  # the rule names PutRecords only
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [r["Data"] for r in records] == [b"0", b"0", b"1", b"1", b"2", b"2", b"3", b"3", b"single"]
    sequence = [r["SequenceNumber"] for r in records]
    assert sequence == sorted(sequence, key=int) and len(set(sequence)) == 9  # the shard's order holds
    assert [r["SequenceNumber"] for r in answer["Records"]] == sequence[0:8:2]


# Reports each invocation's records, in order, to a FIFO queue (one message per invocation).
RECORDER = """
import base64, json, os, boto3
def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    boto3.client("sqs").send_message(QueueUrl=os.environ["SEEN"], MessageGroupId="g",
                                     MessageDeduplicationId=context.aws_request_id, MessageBody=json.dumps(data))
"""


def test_held_back_kinesis_batches_keep_the_shards_order(fresh_server: ServerProcess, unique: str) -> None:
    kinesis, lam, sqs = fresh_server.client("kinesis"), fresh_server.client("lambda"), fresh_server.client("sqs")
    # A fixed name: the rule names the stream, so seed 7 holds back the 1st and 4th of the four batches.
    stream = "ordered"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    for n in range(8):
        kinesis.put_record(StreamName=stream, Data=str(n).encode(), PartitionKey="k")
    seen_url, _ = make_queue(sqs, f"seen-{unique}.fifo", FifoQueue="true")
    lam.create_function(FunctionName=f"rec-{unique}", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": RECORDER})}, Environment={"Variables": {"SEEN": seen_url}})
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    set_faults(fresh_server, [{"service": "lambda", "resource": stream_arn, "fault": "delay", "ms": 30_000,
                               "probability": 0.5}])
    mapping = lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=f"rec-{unique}",
                                              StartingPosition="TRIM_HORIZON", BatchSize=2)
    seen: list[str] = []
    deadline = time.monotonic() + 120  # each held-back batch needs a move of the clock
    try:
        while len(seen) < 8 and time.monotonic() < deadline:
            fresh_server.advance_clock(31)
            for message in receive(sqs, seen_url, count=1, timeout=2.0):
                seen += json.loads(message["Body"])
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert seen == [str(n) for n in range(8)]
    [(matched, held)] = fault_counts(fresh_server)
    assert matched >= 4 and held >= 2

"""EventBridge rules delivering to other services, with the PutEvents trace header where AWS passes it on.

AWS ("Amazon EventBridge integration with AWS X-Ray"): EventBridge passes the entry's `TraceHeader`
(or the request's X-Amzn-Trace-Id) to the target; it is never part of the delivered event.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ServerProcess
from tests.integration.conftest import ROLE, TRACE, eventually, make_queue, receive


def _rule(events: Any, name: str, source: str, target: dict[str, Any]) -> None:
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))
    answer = events.put_targets(Rule=name, Targets=[{"Id": "t1", **target}])
    assert answer["FailedEntryCount"] == 0, answer


def _put(events: Any, source: str, detail: dict[str, Any]) -> str:
    answer = events.put_events(Entries=[{"Source": source, "DetailType": "order placed", "Detail": json.dumps(detail),
                                         "TraceHeader": TRACE}])
    assert answer["FailedEntryCount"] == 0, answer
    return str(answer["Entries"][0]["EventId"])


def test_a_rule_starts_a_state_machine_with_the_event_as_input_and_the_trace_header(
        server: ServerProcess, unique: str) -> None:
    events, sfn = server.client("events"), server.client("stepfunctions")
    machine = sfn.create_state_machine(name=f"on-order-{unique}", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    source = f"shop.{unique}"
    _rule(events, f"to-sfn-{unique}", source, {"Arn": machine, "RoleArn": ROLE})
    event_id = _put(events, source, {"order": 7})

    executions = eventually(lambda: sfn.list_executions(stateMachineArn=machine)["executions"])
    assert len(executions) == 1
    described = eventually(lambda: (lambda d: d if d["status"] == "SUCCEEDED" else None)(
        sfn.describe_execution(executionArn=executions[0]["executionArn"])))
    event = json.loads(described["input"])
    assert (event["id"], event["source"], event["detail-type"], event["detail"]) == (
        event_id, source, "order placed", {"order": 7})
    assert "TraceHeader" not in json.dumps(event)  # never part of the event itself
    assert json.loads(described["output"]) == event
    assert described["traceHeader"] == TRACE


def test_a_rule_puts_a_kinesis_record_keyed_by_the_partition_key_path(server: ServerProcess, unique: str) -> None:
    events, kinesis = server.client("events"), server.client("kinesis")
    stream = f"orders-{unique}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    eventually(lambda: kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE")
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    source = f"shop.{unique}"
    _rule(events, f"to-kinesis-{unique}", source, {
        "Arn": stream_arn, "RoleArn": ROLE, "KinesisParameters": {"PartitionKeyPath": "$.detail.customer"}})
    event_id = _put(events, source, {"customer": "c-42", "order": 8})

    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = eventually(lambda: kinesis.get_records(ShardIterator=iterator)["Records"])
    assert len(records) == 1
    assert records[0]["PartitionKey"] == "c-42"
    event = json.loads(records[0]["Data"])
    assert (event["id"], event["detail"]) == (event_id, {"customer": "c-42", "order": 8})


def test_a_rule_without_partition_key_path_keys_kinesis_records_by_event_id(
        server: ServerProcess, unique: str) -> None:
    events, kinesis = server.client("events"), server.client("kinesis")
    stream = f"plain-{unique}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    eventually(lambda: kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE")
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    source = f"shop.{unique}"
    _rule(events, f"to-kinesis-{unique}", source, {"Arn": stream_arn, "RoleArn": ROLE})
    event_id = _put(events, source, {"order": 9})
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = eventually(lambda: kinesis.get_records(ShardIterator=iterator)["Records"])
    assert records[0]["PartitionKey"] == event_id


def test_the_trace_header_survives_eventbridge_to_sns_to_sqs(server: ServerProcess, unique: str) -> None:
    events, sns, sqs = server.client("events"), server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name=f"relay-{unique}")["TopicArn"]
    url, arn = make_queue(sqs, f"relay-{unique}")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    source = f"shop.{unique}"
    _rule(events, f"to-sns-{unique}", source, {"Arn": topic})
    event_id = _put(events, source, {"order": 10})

    [message] = receive(sqs, url)
    assert message["Attributes"]["AWSTraceHeader"] == TRACE
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    event = json.loads(envelope["Message"])
    assert event["id"] == event_id and "TraceHeader" not in envelope["Message"]

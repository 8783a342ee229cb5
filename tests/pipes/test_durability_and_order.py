"""The issue's end-to-end paths: SQS -> filter -> Lambda enrichment -> Step Functions surviving a
kill -9, and Kinesis -> pipe -> EventBridge keeping each shard's order."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ServerProcess
from tests.lambda_.conftest import make_zip
from tests.pipes.conftest import ROLE, bodies, drain, ensure_role, eventually, queue_arn, settled
from tests.stepfunctions.conftest import sfn_client

ENRICH = """
import json

def handler(event, context):
    return [dict(json.loads(record["body"]), enriched=True) for record in event]
"""


def _executions_inputs(sfn: Any, machine: str) -> list[Any]:
    arns = [e["executionArn"] for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
            for e in page["executions"]]
    return [json.loads(sfn.describe_execution(executionArn=a)["input"]) for a in arns]


def test_sqs_through_a_filter_and_a_lambda_enrichment_reaches_step_functions_across_a_kill(
        fresh_server: ServerProcess, unique: str) -> None:
    ensure_role(fresh_server)
    sqs, pipes, lam = fresh_server.client("sqs"), fresh_server.client("pipes"), fresh_server.client("lambda")
    sfn = sfn_client(fresh_server)
    source = sqs.create_queue(QueueName=f"orders-{unique}", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    function = lam.create_function(FunctionName=f"enrich-{unique}", Runtime="python3.12", Role=ROLE,
                                   Handler="app.handler", Code={"ZipFile": make_zip({"app.py": ENRICH})})
    machine = sfn.create_state_machine(name=f"sm-{unique}", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    pipes.create_pipe(
        Name=f"p-{unique}", RoleArn=ROLE, Source=queue_arn(sqs, source), Target=machine,
        Enrichment=function["FunctionArn"],
        SourceParameters={"SqsQueueParameters": {"BatchSize": 5},
                          "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"body": {"keep": [True]}})}]}},
        TargetParameters={"StepFunctionStateMachineParameters": {"InvocationType": "FIRE_AND_FORGET"}})
    settled(pipes, f"p-{unique}", "RUNNING")
    wanted = set()
    for i in range(40):
        keep = i % 4 != 3
        sqs.send_message(QueueUrl=source, MessageBody=json.dumps({"n": i, "keep": keep}))
        if keep:
            wanted.add(i)
    eventually(lambda: _executions_inputs(sfn, machine), timeout=60)  # the pipe is under way
    fresh_server.kill()
    fresh_server.start()
    sfn = sfn_client(fresh_server)
    fresh_server.advance_clock(31)  # messages in flight at the kill come back after their visibility timeout

    def all_arrived() -> bool:
        seen = {item["n"] for batch in _executions_inputs(sfn, machine) for item in batch}
        return seen >= wanted
    eventually(all_arrived, timeout=120, interval=0.5)
    batches = _executions_inputs(sfn, machine)
    items = [item for batch in batches for item in batch]
    assert all(item["enriched"] and item["keep"] for item in items)  # filtered before, enriched on the way
    assert {item["n"] for item in items} == wanted  # at least once: duplicates allowed, losses not

    def source_empty() -> bool:
        attributes = fresh_server.client("sqs").get_queue_attributes(QueueUrl=source, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return set(attributes.values()) == {"0"}
    eventually(source_empty, timeout=60)


def test_kinesis_through_a_pipe_to_an_event_bus_keeps_each_shards_order(server: ServerProcess, unique: str) -> None:
    ensure_role(server)
    kinesis, pipes, events = server.client("kinesis"), server.client("pipes"), server.client("events")
    sqs, logs = server.client("sqs"), server.client("logs")
    stream = f"s-{unique}"
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    eventually(lambda: kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE")
    bus = events.create_event_bus(Name=f"bus-{unique}")["EventBusArn"]
    catch = sqs.create_queue(QueueName=f"catch-{unique}")["QueueUrl"]
    events.put_rule(Name="all", EventBusName=f"bus-{unique}", EventPattern=json.dumps({"source": [f"orders-{unique}"]}))
    events.put_targets(Rule="all", EventBusName=f"bus-{unique}", Targets=[{"Id": "q", "Arn": queue_arn(sqs, catch)}])
    logs.create_log_group(logGroupName=f"/pipes/{unique}")
    group_arn = f"arn:aws:logs:us-east-1:000000000000:log-group:/pipes/{unique}"
    name = f"p-{unique}"
    pipes.create_pipe(
        Name=name, RoleArn=ROLE, Source=stream_arn, Target=bus,
        SourceParameters={"KinesisStreamParameters": {"StartingPosition": "TRIM_HORIZON", "BatchSize": 3}},
        TargetParameters={"InputTemplate": '{"key": "<$.partitionKey>", "n": <$.data.n>, "seq": "<$.sequenceNumber>"}',
                          "EventBridgeEventBusParameters": {"Source": f"orders-{unique}", "DetailType": "Order"}},
        LogConfiguration={"Level": "TRACE", "IncludeExecutionData": ["ALL"],
                          "CloudwatchLogsLogDestination": {"LogGroupArn": group_arn}})
    settled(pipes, name, "RUNNING")
    for n in range(24):
        kinesis.put_record(StreamName=stream, PartitionKey=f"k{n % 5}", Data=json.dumps({"n": n}).encode())
    arrived = bodies(drain(sqs, catch, 24, timeout=60))
    assert sorted(e["detail"]["n"] for e in arrived) == list(range(24))
    assert {(e["source"], e["detail-type"]) for e in arrived} == {(f"orders-{unique}", "Order")}

    # What the pipe handed the bus, in the order it did: its TRACE log's target invocations.
    def delivered() -> list[dict[str, Any]] | None:
        found = logs.get_log_events(logGroupName=f"/pipes/{unique}", logStreamName=name, startFromHead=True)["events"]
        records = [json.loads(e["message"]) for e in found]
        sent = [item for r in records if r["messageType"] == "TargetInvocationSucceeded"
                for item in json.loads(r["payload"])]
        return sent if len(sent) >= 24 else None
    sent = eventually(delivered)
    by_key: dict[str, list[int]] = {}
    for item in sent:
        by_key.setdefault(item["key"], []).append(item["n"])
    assert all(values == sorted(values) for values in by_key.values())  # per partition key, in put order
    assert sorted(n for values in by_key.values() for n in values) == list(range(24))


FAIL = """
def handler(event, context):
    raise RuntimeError("target down")
"""


def test_a_kinesis_batch_that_keeps_failing_is_described_to_the_dead_letter_queue(
        server: ServerProcess, unique: str) -> None:
    ensure_role(server)
    kinesis, pipes, sqs, lam = (server.client(s) for s in ("kinesis", "pipes", "sqs", "lambda"))
    stream = f"s-{unique}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    eventually(lambda: kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE")
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    dlq = sqs.create_queue(QueueName=f"dlq-{unique}")["QueueUrl"]
    function = lam.create_function(FunctionName=f"down-{unique}", Runtime="python3.12", Role=ROLE,
                                   Handler="app.handler", Code={"ZipFile": make_zip({"app.py": FAIL})})
    pipes.create_pipe(Name=f"p-{unique}", RoleArn=ROLE, Source=stream_arn, Target=function["FunctionArn"],
                      SourceParameters={"KinesisStreamParameters": {
                          "StartingPosition": "TRIM_HORIZON", "BatchSize": 10, "MaximumRetryAttempts": 1,
                          "DeadLetterConfig": {"Arn": queue_arn(sqs, dlq)}}})
    settled(pipes, f"p-{unique}", "RUNNING")
    sequences = [kinesis.put_record(StreamName=stream, PartitionKey="k", Data=b'{"n": 1}')["SequenceNumber"]]
    [message] = drain(sqs, dlq, 1, timeout=60)
    document = json.loads(message["Body"])
    info = document["KinesisBatchInfo"]
    assert document["context"]["condition"] == "RetryAttemptsExhausted"
    assert (info["startSequenceNumber"], info["batchSize"], info["streamArn"]) == (sequences[0], 1, stream_arn)

"""SQS sources: filters (dropped messages are deleted, as AWS does), templates, and targets."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.pipes.conftest import ROLE, bodies, drain, ensure_role, eventually, queue_arn, settled


def test_filtered_messages_are_deleted_and_matching_ones_reach_the_target_transformed(
        pipes: Any, sqs: Any, unique: str) -> None:
    source = sqs.create_queue(QueueName=f"src-{unique}")["QueueUrl"]
    target = sqs.create_queue(QueueName=f"dst-{unique}")["QueueUrl"]
    name = f"p-{unique}"
    pipes.create_pipe(
        Name=name, RoleArn=ROLE, Source=queue_arn(sqs, source), Target=queue_arn(sqs, target),
        SourceParameters={"FilterCriteria": {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]}},
        TargetParameters={"InputTemplate": '{"id": <$.body.id>, "text": "order <$.body.id> from <aws.pipes.pipe-name>",'
                                           ' "queue": "<aws.pipes.source-arn>"}'})
    settled(pipes, name, "RUNNING")
    for i in range(6):
        sqs.send_message(QueueUrl=source, MessageBody=json.dumps({"kind": "order" if i % 2 == 0 else "other", "id": i}))
    got = sorted(bodies(drain(sqs, target, 3)), key=lambda b: b["id"])
    assert got == [{"id": i, "text": f"order {i} from {name}", "queue": queue_arn(sqs, source)} for i in (0, 2, 4)]

    def source_empty() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    eventually(source_empty)  # the three filtered out were deleted, not left to come back


def test_without_a_template_the_target_gets_the_sqs_record(pipes: Any, sqs: Any, unique: str) -> None:
    source = sqs.create_queue(QueueName=f"src-{unique}")["QueueUrl"]
    target = sqs.create_queue(QueueName=f"dst-{unique}")["QueueUrl"]
    pipes.create_pipe(Name=f"p-{unique}", RoleArn=ROLE, Source=queue_arn(sqs, source), Target=queue_arn(sqs, target))
    settled(pipes, f"p-{unique}", "RUNNING")
    sent = sqs.send_message(QueueUrl=source, MessageBody="hello",
                            MessageAttributes={"colour": {"DataType": "String", "StringValue": "blue"}})
    record = bodies(drain(sqs, target, 1))[0]
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn(sqs, source)
    assert record["messageAttributes"]["colour"]["stringValue"] == "blue"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"


def test_a_stopped_pipe_leaves_messages_in_the_queue(pipes: Any, sqs: Any, unique: str) -> None:
    source = sqs.create_queue(QueueName=f"src-{unique}")["QueueUrl"]
    target = sqs.create_queue(QueueName=f"dst-{unique}")["QueueUrl"]
    name = f"p-{unique}"
    pipes.create_pipe(Name=name, RoleArn=ROLE, Source=queue_arn(sqs, source), Target=queue_arn(sqs, target),
                      DesiredState="STOPPED")
    settled(pipes, name, "STOPPED")
    sqs.send_message(QueueUrl=source, MessageBody="waiting")
    assert sqs.receive_message(QueueUrl=target, WaitTimeSeconds=2).get("Messages") is None
    pipes.start_pipe(Name=name)
    assert [m["Body"] for m in drain(sqs, target, 1)] != []


def test_an_event_bus_target_gets_the_pipe_as_source_and_the_parameters(
        pipes: Any, sqs: Any, server: Any, unique: str) -> None:
    events = server.client("events")
    bus = events.create_event_bus(Name=f"bus-{unique}")["EventBusArn"]
    catch = sqs.create_queue(QueueName=f"catch-{unique}")["QueueUrl"]
    events.put_rule(Name="all", EventBusName=f"bus-{unique}", EventPattern=json.dumps({"source": [{"prefix": ""}]}))
    events.put_targets(Rule="all", EventBusName=f"bus-{unique}", Targets=[{"Id": "q", "Arn": queue_arn(sqs, catch)}])
    source = sqs.create_queue(QueueName=f"src-{unique}")["QueueUrl"]
    name = f"p-{unique}"
    pipes.create_pipe(Name=name, RoleArn=ROLE, Source=queue_arn(sqs, source), Target=bus,
                      TargetParameters={"InputTemplate": '{"n": <$.body.n>}'})
    settled(pipes, name, "RUNNING")
    sqs.send_message(QueueUrl=source, MessageBody=json.dumps({"n": 7}))
    event = bodies(drain(sqs, catch, 1))[0]
    assert event["source"] == f"Pipe {name}"
    assert event["detail-type"] == "Event from aws:sqs"
    assert event["detail"] == {"n": 7}


def test_a_pipe_publishes_its_cloudwatch_metrics(fresh_server: Any, unique: str) -> None:
    ensure_role(fresh_server)
    sqs, pipes, cloudwatch = fresh_server.client("sqs"), fresh_server.client("pipes"), fresh_server.client("cloudwatch")
    source = sqs.create_queue(QueueName=f"src-{unique}")["QueueUrl"]
    target = sqs.create_queue(QueueName=f"dst-{unique}")["QueueUrl"]
    name = f"p-{unique}"
    pipes.create_pipe(Name=name, RoleArn=ROLE, Source=queue_arn(sqs, source), Target=queue_arn(sqs, target))
    settled(pipes, name, "RUNNING")
    for i in range(3):
        sqs.send_message(QueueUrl=source, MessageBody=json.dumps({"n": i}))
    drain(sqs, target, 3)
    start = time.time() - 600
    fresh_server.advance_clock(120)  # the minute with the executions closes and is written

    def events_counted() -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/EventBridge/Pipes", MetricName="EventCount", Dimensions=[{"Name": "PipeName", "Value": name}],
            StartTime=start, EndTime=start + 3600, Period=60, Statistics=["Sum"])["Datapoints"]
        return sum(p["Sum"] for p in points)
    assert eventually(lambda: events_counted() == 3)
    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="AWS/EventBridge/Pipes")["Metrics"]}
    assert {"Invocations", "EventCount", "Duration", "TargetStageDuration"} <= names


def test_a_fifo_queue_reaches_a_fifo_target_in_order(pipes: Any, sqs: Any, unique: str) -> None:
    fifo = {"FifoQueue": "true"}
    source = sqs.create_queue(QueueName=f"src-{unique}.fifo", Attributes=fifo)["QueueUrl"]
    target = sqs.create_queue(QueueName=f"dst-{unique}.fifo", Attributes=fifo)["QueueUrl"]
    name = f"p-{unique}"
    pipes.create_pipe(Name=name, RoleArn=ROLE, Source=queue_arn(sqs, source), Target=queue_arn(sqs, target),
                      SourceParameters={"SqsQueueParameters": {"BatchSize": 3}},
                      TargetParameters={"InputTemplate": "<$.body>", "SqsQueueParameters": {
                          "MessageGroupId": "orders", "MessageDeduplicationId": "$.messageId"}})
    settled(pipes, name, "RUNNING")
    for i in range(9):
        sqs.send_message(QueueUrl=source, MessageBody=f"m{i}", MessageGroupId="orders", MessageDeduplicationId=f"d{i}")
    got = [m["Body"] for m in drain(sqs, target, 9)]
    assert got == [f"m{i}" for i in range(9)]

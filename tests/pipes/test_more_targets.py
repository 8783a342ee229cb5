"""More of what a pipe connects: a Step Functions EXPRESS enrichment, and Kinesis, SNS and CloudWatch
Logs targets."""

from __future__ import annotations

import json
from typing import Any

from tests.pipes.conftest import ROLE, bodies, drain, eventually, queue_arn, settled
from tests.stepfunctions.conftest import sfn_client


def test_an_express_enrichment_feeds_a_kinesis_target_keyed_by_a_path(
        pipes: Any, sqs: Any, server: Any, unique: str) -> None:
    kinesis, sfn = server.client("kinesis"), sfn_client(server)
    stream = f"out-{unique}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    eventually(lambda: kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE")
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    machine = sfn.create_state_machine(name=f"enrich-{unique}", roleArn=ROLE, type="EXPRESS", definition=json.dumps({
        "QueryLanguage": "JSONata", "StartAt": "Tag", "States": {"Tag": {
            "Type": "Pass", "Output": "{% $map($states.input, function($r) { {'id': $r.messageId, 'body': $r.body,"
                                      " 'tagged': true} }) %}", "End": True}}}))["stateMachineArn"]
    source = sqs.create_queue(QueueName=f"src-{unique}")["QueueUrl"]
    name = f"p-{unique}"
    pipes.create_pipe(Name=name, RoleArn=ROLE, Source=queue_arn(sqs, source), Enrichment=machine, Target=stream_arn,
                      TargetParameters={"KinesisStreamParameters": {"PartitionKey": "$.body"}})
    settled(pipes, name, "RUNNING")
    sent = sqs.send_message(QueueUrl=source, MessageBody="customer-7")

    def records() -> list[dict[str, Any]]:
        shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        return list(kinesis.get_records(ShardIterator=iterator)["Records"])
    [record] = eventually(records)
    assert record["PartitionKey"] == "customer-7"
    assert json.loads(record["Data"]) == {"id": sent["MessageId"], "body": "customer-7", "tagged": True}


def test_sns_and_cloudwatch_logs_targets_get_each_event(pipes: Any, sqs: Any, server: Any, unique: str) -> None:
    sns, logs = server.client("sns"), server.client("logs")
    topic = sns.create_topic(Name=f"t-{unique}")["TopicArn"]
    inbox = sqs.create_queue(QueueName=f"inbox-{unique}")["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, inbox),
                  Attributes={"RawMessageDelivery": "true"})
    group = f"/pipes/target-{unique}"
    logs.create_log_group(logGroupName=group)
    first = sqs.create_queue(QueueName=f"a-{unique}")["QueueUrl"]
    second = sqs.create_queue(QueueName=f"b-{unique}")["QueueUrl"]
    pipes.create_pipe(Name=f"to-sns-{unique}", RoleArn=ROLE, Source=queue_arn(sqs, first), Target=topic,
                      TargetParameters={"InputTemplate": '{"n": <$.body.n>}'})
    pipes.create_pipe(Name=f"to-logs-{unique}", RoleArn=ROLE, Source=queue_arn(sqs, second),
                      Target=f"arn:aws:logs:us-east-1:000000000000:log-group:{group}",
                      TargetParameters={"InputTemplate": "n=<$.body.n>",
                                        "CloudWatchLogsParameters": {"LogStreamName": "from-pipe"}})
    settled(pipes, f"to-sns-{unique}", "RUNNING")
    settled(pipes, f"to-logs-{unique}", "RUNNING")
    for n in range(3):
        sqs.send_message(QueueUrl=first, MessageBody=json.dumps({"n": n}))
        sqs.send_message(QueueUrl=second, MessageBody=json.dumps({"n": n}))
    assert sorted(b["n"] for b in bodies(drain(sqs, inbox, 3))) == [0, 1, 2]

    def logged() -> list[str] | None:
        found = logs.get_log_events(logGroupName=group, logStreamName="from-pipe", startFromHead=True)["events"]
        return sorted(e["message"] for e in found) if len(found) >= 3 else None
    assert eventually(logged) == ["n=0", "n=1", "n=2"]

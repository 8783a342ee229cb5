"""Resources in China and isolated regions carry their partition in every ARN, and those ARNs work
as targets and subscriptions (boto3 against a running server)."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.conftest import ServerProcess


def test_arns_in_china_regions_name_the_aws_cn_partition(server: ServerProcess, unique: str) -> None:
    region = "cn-north-1"
    sqs, sns, events = (server.client(s, region=region) for s in ("sqs", "sns", "events"))
    logs, kinesis = server.client("logs", region=region), server.client("kinesis", region=region)
    url = sqs.create_queue(QueueName=f"q-{unique}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic_arn = sns.create_topic(Name=f"t-{unique}")["TopicArn"]
    bus_arn = events.create_event_bus(Name=f"b-{unique}")["EventBusArn"]
    kinesis.create_stream(StreamName=f"s-{unique}", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=f"s-{unique}")["StreamDescriptionSummary"]["StreamARN"]
    logs.create_log_group(logGroupName=f"g-{unique}")
    group_arn = logs.describe_log_groups(logGroupNamePrefix=f"g-{unique}")["logGroups"][0]["logGroupArn"]
    for made in (queue_arn, topic_arn, bus_arn, stream_arn, group_arn):
        assert made.startswith("arn:aws-cn:") and f":{region}:" in made
    # The ARNs are usable: SNS -> SQS, and an EventBridge rule to the topic.
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    events.put_rule(Name=f"r-{unique}", EventBusName=f"b-{unique}", EventPattern=json.dumps({"source": ["cn.app"]}))
    events.put_targets(Rule=f"r-{unique}", EventBusName=f"b-{unique}", Targets=[{"Id": "t", "Arn": topic_arn}])
    events.put_events(Entries=[{"Source": "cn.app", "DetailType": "d", "Detail": "{}", "EventBusName": f"b-{unique}"}])
    deadline = time.monotonic() + 10
    messages: list[Any] = []
    while not messages:
        assert time.monotonic() < deadline
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert json.loads(messages[0]["Body"])["source"] == "cn.app"

"""AWS/SQS and AWS/SNS as the services publish them: every metric AWS lists for a queue and a topic,
with its unit and dimensions, after driving the behaviour it counts through boto3 (period closed by
moving the server's clock)."""

from __future__ import annotations

import json
from typing import Any

from tests.cloudwatch.metric_checks import Metric, assert_published
from tests.conftest import ServerProcess


def _queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_a_queue_publishes_its_counts_sizes_and_depths(clocked: ServerProcess) -> None:
    sqs, cw = clocked.client("sqs"), clocked.client("cloudwatch")
    url, _ = _queue(sqs, "orders")
    idle, _ = _queue(sqs, "idle")
    for body in ("a" * 10, "b" * 30, "c" * 20):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
    [kept] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=3000)["Messages"]
    [done] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=3000)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=done["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=idle, WaitTimeSeconds=0).get("Messages") is None
    queue = {"QueueName": "orders"}
    assert_published(cw, clocked, [
        Metric("AWS/SQS", "NumberOfMessagesSent", queue, "Count", value=4),
        Metric("AWS/SQS", "SentMessageSize", queue, "Bytes", "Maximum", 30),
        Metric("AWS/SQS", "SentMessageSize", queue, "Bytes", "SampleCount", 4),
        Metric("AWS/SQS", "NumberOfMessagesReceived", queue, "Count", value=2),
        Metric("AWS/SQS", "NumberOfMessagesDeleted", queue, "Count", value=1),
        Metric("AWS/SQS", "NumberOfEmptyReceives", {"QueueName": "idle"}, "Count", value=1),
        Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue, "Count", "Maximum", 1),
        Metric("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", queue, "Count", "Maximum", 1),
        Metric("AWS/SQS", "ApproximateNumberOfMessagesDelayed", queue, "Count", "Maximum", 1),
        Metric("AWS/SQS", "ApproximateAgeOfOldestMessage", queue, "Seconds", "Maximum", 60, at_least=True),
        Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "idle"}, "Count", "Maximum", 0),
    ])
    assert kept["Body"] and cw.list_metrics(Namespace="AWS/SQS", MetricName="NumberOfMessagesSent")["Metrics"]


def test_a_topic_publishes_deliveries_filtering_and_dead_letters(clocked: ServerProcess) -> None:
    sqs, sns, cw = clocked.client("sqs"), clocked.client("sns"), clocked.client("cloudwatch")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    names = ["all", "by-attribute", "by-body", "gone", "gone-too"]
    queues = {name: _queue(sqs, name) for name in [*names, "dlq", "dlq-gone"]}
    policy = json.dumps({"kind": ["big"]})
    subscribe: dict[str, dict[str, str]] = {
        "all": {}, "by-attribute": {"FilterPolicy": policy},
        "by-body": {"FilterPolicy": policy, "FilterPolicyScope": "MessageBody"},
        "gone": {"RedrivePolicy": json.dumps({"deadLetterTargetArn": queues["dlq"][1]})},
        "gone-too": {"RedrivePolicy": json.dumps({"deadLetterTargetArn": queues["dlq-gone"][1]})}}
    for name, attributes in subscribe.items():
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queues[name][1], Attributes=attributes)
    for name in ("gone", "gone-too", "dlq-gone"):
        sqs.delete_queue(QueueUrl=queues[name][0])
    # Filtered out: by attributes (small), by body (not JSON); then no attributes, and a JSON body (small).
    sns.publish(TopicArn=topic, Message="plain text",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "small"}})
    sns.publish(TopicArn=topic, Message=json.dumps({"kind": "small"}))
    topic_name = {"TopicName": "orders"}
    assert_published(cw, clocked, [
        Metric("AWS/SNS", "NumberOfMessagesPublished", topic_name, "Count", value=2),
        Metric("AWS/SNS", "PublishSize", topic_name, "Bytes", "Maximum", len('{"kind": "small"}')),
        Metric("AWS/SNS", "NumberOfNotificationsDelivered", topic_name, "Count", value=2),
        Metric("AWS/SNS", "NumberOfNotificationsFilteredOut", topic_name, "Count", value=4),
        Metric("AWS/SNS", "NumberOfNotificationsFilteredOut-MessageAttributes", topic_name, "Count", value=1),
        Metric("AWS/SNS", "NumberOfNotificationsFilteredOut-NoMessageAttributes", topic_name, "Count", value=1),
        Metric("AWS/SNS", "NumberOfNotificationsFilteredOut-MessageBody", topic_name, "Count", value=1),
        Metric("AWS/SNS", "NumberOfNotificationsFilteredOut-InvalidMessageBody", topic_name, "Count", value=1),
        Metric("AWS/SNS", "NumberOfNotificationsFailed", topic_name, "Count", value=4),
        Metric("AWS/SNS", "NumberOfNotificationsRedrivenToDlq", topic_name, "Count", value=2),
        Metric("AWS/SNS", "NumberOfNotificationsFailedToRedriveToDlq", topic_name, "Count", value=2),
    ])

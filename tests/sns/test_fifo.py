"""FIFO topics to FIFO queues: group order and deduplication, end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sns.conftest import receive
from tests.sns.test_topics import error_of


@pytest.fixture
def fifo_topic(sns: Any, unique: str) -> str:
    return str(sns.create_topic(Name=f"ft-{unique}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"])


def test_fifo_publish_needs_a_group_and_a_deduplication_id(sns: Any, fifo_topic: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.publish(TopicArn=fifo_topic, Message="x")
    assert error_of(excinfo) == ("InvalidParameter",
                                 "Invalid parameter: The MessageGroupId parameter is required for FIFO topics", 400)
    with pytest.raises(ClientError) as excinfo:
        sns.publish(TopicArn=fifo_topic, Message="x", MessageGroupId="g")
    assert error_of(excinfo)[1] == ("Invalid parameter: The topic should either have ContentBasedDeduplication "
                                    "enabled or MessageDeduplicationId provided explicitly")


def test_fifo_topics_only_take_sqs_subscriptions(sns: Any, fifo_topic: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=fifo_topic, Protocol="email", Endpoint="a@example.com")
    assert error_of(excinfo)[0] == "InvalidParameter"


def test_fifo_delivery_keeps_group_order_and_drops_duplicates(sns: Any, sqs: Any, fifo_topic: str,
                                                              make_queue: Any) -> None:
    url, arn = make_queue(fifo=True)
    sns.subscribe(TopicArn=fifo_topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sequence_numbers = []
    first_ids = {}
    for i in range(30):
        group = "ab"[i % 2]
        response = sns.publish(TopicArn=fifo_topic, Message=f"{group}-{i}", MessageGroupId=group,
                               MessageDeduplicationId=f"d{i}")
        sequence_numbers.append(int(response["SequenceNumber"]))
        first_ids[i] = response["MessageId"]
    assert sequence_numbers == sorted(sequence_numbers) and len(set(sequence_numbers)) == 30
    # Duplicates within five minutes are accepted with the original id, and not delivered again.
    duplicate = sns.publish(TopicArn=fifo_topic, Message="a-0 again", MessageGroupId="a", MessageDeduplicationId="d0")
    assert duplicate["MessageId"] == first_ids[0]
    messages = receive(sqs, url, 30, timeout=20, MessageSystemAttributeNames=["MessageGroupId"])
    bodies = [m["Body"] for m in messages]
    assert len(bodies) == 30 and "a-0 again" not in bodies
    for group in "ab":
        in_group = [int(b.split("-")[1]) for b in bodies if b.startswith(group)]
        assert in_group == sorted(in_group) and len(in_group) == 15
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"a", "b"}
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_content_based_deduplication_uses_the_body(sns: Any, sqs: Any, unique: str, make_queue: Any) -> None:
    topic = sns.create_topic(Name=f"cbd-{unique}.fifo", Attributes={
        "FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    url, arn = make_queue(fifo=True)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    first = sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")
    again = sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")
    other = sns.publish(TopicArn=topic, Message="different", MessageGroupId="g")
    assert first["MessageId"] == again["MessageId"] != other["MessageId"]
    envelopes = [json.loads(m["Body"]) for m in receive(sqs, url, 2)]
    assert [e["Message"] for e in envelopes] == ["same", "different"]
    assert envelopes[0]["SequenceNumber"] == first["SequenceNumber"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_fifo_publish_batch_keeps_order(sns: Any, sqs: Any, fifo_topic: str, make_queue: Any) -> None:
    url, arn = make_queue(fifo=True)
    sns.subscribe(TopicArn=fifo_topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    response = sns.publish_batch(TopicArn=fifo_topic, PublishBatchRequestEntries=[
        {"Id": f"e{i}", "Message": f"m{i}", "MessageGroupId": "g", "MessageDeduplicationId": f"b{i}"} for i in range(10)])
    assert len(response["Successful"]) == 10 and all("SequenceNumber" in e for e in response["Successful"])
    assert [m["Body"] for m in receive(sqs, url, 10)] == [f"m{i}" for i in range(10)]

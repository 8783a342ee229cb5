"""SNS into SQS across the seam: FIFO raw delivery with attributes, and redriving an SNS DLQ.

The redrive test pins down a pitfall AWS documents for StartMessageMoveTask: it only redrives queues
that are dead-letter queues *of SQS queues*; a queue that is only an SNS subscription's DLQ is refused.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.integration.conftest import eventually, make_queue, receive


def test_a_fifo_topic_delivers_raw_messages_in_group_order_with_their_attributes(
        server: ServerProcess, unique: str) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name=f"orders-{unique}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, arn = make_queue(sqs, f"orders-{unique}.fifo", FifoQueue="true")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    attributes = {
        "kind": {"DataType": "String", "StringValue": "order"},
        "price": {"DataType": "Number", "StringValue": "12.5"},
        "tags": {"DataType": "String.Array", "StringValue": '["a", "b"]'},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    for i in range(5):
        sns.publish(TopicArn=topic, Message=f"step {i}", MessageGroupId="customer-1",
                    MessageDeduplicationId=f"d-{i}", MessageAttributes=attributes)
    sns.publish(TopicArn=topic, Message="step 0 again", MessageGroupId="customer-1",
                MessageDeduplicationId="d-0", MessageAttributes=attributes)  # a duplicate: not delivered

    messages = receive(sqs, url, count=5)
    assert [m["Body"] for m in messages] == [f"step {i}" for i in range(5)]
    first = messages[0]
    assert first["Attributes"]["MessageGroupId"] == "customer-1"
    assert first["Attributes"]["MessageDeduplicationId"] == "d-0"
    assert first["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "order"},
        "price": {"DataType": "Number", "StringValue": "12.5"},
        "tags": {"DataType": "String.Array", "StringValue": '["a", "b"]'},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    assert receive(sqs, url, timeout=1.5) == []


def _move(sqs: Any, **params: Any) -> str:
    return str(sqs.start_message_move_task(**params)["TaskHandle"])


def test_an_sns_dead_letter_queue_is_redriven_only_once_an_sqs_queue_names_it(
        server: ServerProcess, unique: str) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name=f"billing-{unique}")["TopicArn"]
    dlq_url, dlq_arn = make_queue(sqs, f"billing-dlq-{unique}")
    # The subscribed queue does not exist yet: SNS gets a client error and dead-letters at once.
    target_arn = f"arn:aws:sqs:us-east-1:000000000000:billing-{unique}"
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=target_arn, ReturnSubscriptionArn=True,
                                 Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})[
        "SubscriptionArn"]
    ids = [sns.publish(TopicArn=topic, Message=f"invoice {i}")["MessageId"] for i in range(3)]
    eventually(lambda: int(sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]) == 3)

    url, arn = make_queue(sqs, f"billing-{unique}")
    assert arn == target_arn
    # The pitfall: a DLQ fed only by SNS is not a redrivable dead-letter queue for SQS.
    with pytest.raises(ClientError) as refused:
        _move(sqs, SourceArn=dlq_arn, DestinationArn=arn)
    assert refused.value.response["Error"]["Code"] in {"InvalidParameterValue",
                                                         "AWS.SimpleQueueService.InvalidParameterValue"}

    # Naming it as the subscribed queue's own DLQ makes it one; then the move task redrives it.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})
    _move(sqs, SourceArn=dlq_arn, DestinationArn=arn)
    moved = receive(sqs, url, count=3)
    envelopes = sorted((json.loads(m["Body"]) for m in moved), key=lambda e: str(e["Message"]))
    assert [e["Message"] for e in envelopes] == ["invoice 0", "invoice 1", "invoice 2"]
    assert sorted(e["MessageId"] for e in envelopes) == sorted(ids)
    assert {e["UnsubscribeURL"].endswith(subscription.split(":")[-1]) for e in envelopes} == {True}
    # The dead-lettered copy is the subscriber's message alone, without error attributes (recorded
    # against AWS), and the move keeps it that way.
    assert [m for m in moved if m.get("MessageAttributes")] == []
    tasks = eventually(lambda: [t for t in sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
                                if t["Status"] == "COMPLETED"])
    assert tasks[0]["ApproximateNumberOfMessagesMoved"] == 3

    # With the queue in place, later publishes reach it directly.
    sns.publish(TopicArn=topic, Message="invoice 3")
    [fresh] = receive(sqs, url)
    assert json.loads(fresh["Body"])["Message"] == "invoice 3"


def test_a_topic_takes_at_most_200_filter_policies(fresh_server: ServerProcess) -> None:
    sns = fresh_server.client("sns")
    topic = sns.create_topic(Name="crowded")["TopicArn"]
    policy = {"FilterPolicy": json.dumps({"kind": ["order"]})}
    for i in range(200):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:000000000000:q{i}",
                      Attributes=policy)
    with pytest.raises(ClientError) as refused:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:one-more",
                      Attributes=policy)
    assert refused.value.response["Error"]["Code"] == "FilterPolicyLimitExceeded"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Without a policy the subscription is fine; giving it one later hits the same limit.
    arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:plain",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    with pytest.raises(ClientError) as refused_later:
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                        AttributeValue=policy["FilterPolicy"])
    assert refused_later.value.response["Error"]["Code"] == "FilterPolicyLimitExceeded"
    # Another topic has its own 200.
    other = sns.create_topic(Name="roomy")["TopicArn"]
    sns.subscribe(TopicArn=other, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q0", Attributes=policy)

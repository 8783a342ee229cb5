"""FIFO queues: strict order per group, in-flight groups block, deduplication, sequence numbers."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.sqs.test_queues import error_code


def test_messages_of_a_group_arrive_in_order(sqs: Any, fifo_url: str) -> None:
    for i in range(5):
        sqs.send_message(QueueUrl=fifo_url, MessageBody=str(i), MessageGroupId="g", MessageDeduplicationId=str(i))
    got = sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["0", "1", "2", "3", "4"]


def test_a_group_with_a_message_in_flight_is_blocked(sqs: Any, fifo_url: str) -> None:
    for i, group in enumerate(["a", "a", "b"]):
        sqs.send_message(QueueUrl=fifo_url, MessageBody=f"{group}{i}", MessageGroupId=group,
                         MessageDeduplicationId=str(i))
    first = sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=1)["Messages"]
    assert [m["Body"] for m in first] == ["a0"]
    second = sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in second] == ["b2"]  # a1 waits behind a0
    sqs.delete_message(QueueUrl=fifo_url, ReceiptHandle=first[0]["ReceiptHandle"])
    third = sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in third] == ["a1"]


def test_a_group_unblocks_when_visibility_expires_and_redelivers_in_order(
        sqs: Any, fifo_url: str, server: ServerProcess) -> None:
    for i in range(2):
        sqs.send_message(QueueUrl=fifo_url, MessageBody=str(i), MessageGroupId="g", MessageDeduplicationId=str(i))
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=1)["Messages"]] == ["0"]
    server.advance_clock(31)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)["Messages"]] == ["0", "1"]


def test_explicit_deduplication_ids_suppress_repeats_within_five_minutes(
        sqs: Any, fifo_url: str, server: ServerProcess) -> None:
    first = sqs.send_message(QueueUrl=fifo_url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d")
    repeat = sqs.send_message(QueueUrl=fifo_url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d")
    assert repeat["MessageId"] == first["MessageId"]
    assert repeat["SequenceNumber"] == first["SequenceNumber"]
    assert len(sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)["Messages"]) == 1
    server.advance_clock(301)
    later = sqs.send_message(QueueUrl=fifo_url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d")
    assert later["MessageId"] != first["MessageId"]


def test_content_based_deduplication_hashes_the_body(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"cbd-{unique}.fifo",
                           Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    c = sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"] != c["MessageId"]


def test_deduplication_can_be_scoped_to_the_message_group(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"scope-{unique}.fifo", Attributes={
        "FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId",
    })["QueueUrl"]
    a = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g1", MessageDeduplicationId="d")
    b = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g2", MessageDeduplicationId="d")
    assert a["MessageId"] != b["MessageId"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["DeduplicationScope"] == "messageGroup"
    assert attributes["FifoThroughputLimit"] == "perMessageGroupId"


def test_sequence_numbers_increase(sqs: Any, fifo_url: str) -> None:
    numbers = [int(sqs.send_message(QueueUrl=fifo_url, MessageBody=str(i), MessageGroupId="g",
                                    MessageDeduplicationId=str(i))["SequenceNumber"]) for i in range(3)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


def test_fifo_messages_carry_their_fifo_attributes(sqs: Any, fifo_url: str) -> None:
    sent = sqs.send_message(QueueUrl=fifo_url, MessageBody="x", MessageGroupId="grp", MessageDeduplicationId="dd")
    [message] = sqs.receive_message(QueueUrl=fifo_url, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "grp"
    assert message["Attributes"]["MessageDeduplicationId"] == "dd"
    assert message["Attributes"]["SequenceNumber"] == sent["SequenceNumber"]


def test_a_message_group_id_is_required(sqs: Any, fifo_url: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=fifo_url, MessageBody="x", MessageDeduplicationId="d")
    assert error_code(excinfo) == "MissingParameter"


def test_a_deduplication_id_is_required_without_content_based_deduplication(sqs: Any, fifo_url: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=fifo_url, MessageBody="x", MessageGroupId="g")
    assert error_code(excinfo) == "InvalidParameterValue"


def test_per_message_delay_is_refused_on_fifo_queues(sqs: Any, fifo_url: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=fifo_url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d",
                         DelaySeconds=5)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_a_retried_receive_attempt_returns_the_same_messages(sqs: Any, fifo_url: str) -> None:
    for i in range(3):
        sqs.send_message(QueueUrl=fifo_url, MessageBody=str(i), MessageGroupId="g", MessageDeduplicationId=str(i))
    first = sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    retry = sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    assert [m["ReceiptHandle"] for m in retry["Messages"]] == [m["ReceiptHandle"] for m in first["Messages"]]


def test_fifo_batches_keep_order(sqs: Any, fifo_url: str) -> None:
    sqs.send_message_batch(QueueUrl=fifo_url, Entries=[
        {"Id": str(i), "MessageBody": str(i), "MessageGroupId": "g", "MessageDeduplicationId": str(i)}
        for i in range(10)
    ])
    got = sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == [str(i) for i in range(10)]

"""Redrive to dead-letter queues, DLQ discovery, redrive-allow policies and message move tasks."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.sqs.test_queues import error_code


def arn_of(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def make_pair(sqs: Any, unique: str, max_receives: int = 2, fifo: bool = False) -> tuple[str, str]:
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName=f"dlq-{unique}{suffix}", Attributes=extra)["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": max_receives})
    source = sqs.create_queue(QueueName=f"src-{unique}{suffix}",
                              Attributes={**extra, "RedrivePolicy": policy, "VisibilityTimeout": "5"})["QueueUrl"]
    return source, dlq


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(
        sqs: Any, unique: str, server: ServerProcess) -> None:
    source, dlq = make_pair(sqs, unique, max_receives=2)
    sent = sqs.send_message(QueueUrl=source, MessageBody="poison")
    for _ in range(2):
        assert sqs.receive_message(QueueUrl=source)["Messages"][0]["Body"] == "poison"
        server.advance_clock(6)
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    [dead] = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"]
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, source)


def test_fifo_queues_redrive_to_fifo_dead_letter_queues(sqs: Any, unique: str, server: ServerProcess) -> None:
    source, dlq = make_pair(sqs, unique, max_receives=1, fifo=True)
    sqs.send_message(QueueUrl=source, MessageBody="p", MessageGroupId="g")
    sqs.receive_message(QueueUrl=source)
    server.advance_clock(6)
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    assert sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"] == "p"


def test_dead_letter_sources_are_listed(sqs: Any, unique: str) -> None:
    source, dlq = make_pair(sqs, unique)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]


def test_dead_letter_sources_page_with_max_results(sqs: Any, unique: str) -> None:
    dlq = sqs.create_queue(QueueName=f"dlq-pages-{unique}")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 3})
    sources = [sqs.create_queue(QueueName=f"src-{unique}-{i}", Attributes={"RedrivePolicy": policy})["QueueUrl"]
               for i in range(3)]
    sqs.create_queue(QueueName=f"src-{unique}-other")  # no redrive policy: never listed
    first = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    assert first["queueUrls"] == sources[:2]
    second = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2, NextToken=first["NextToken"])
    assert second["queueUrls"] == sources[2:] and "NextToken" not in second


def test_a_redrive_policy_must_name_an_existing_queue_of_the_same_type(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"lonely-{unique}")["QueueUrl"]
    missing = json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:000000000000:none-{unique}",
                          "maxReceiveCount": 3})
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": missing})
    assert error_code(excinfo) == "InvalidAttributeValue"
    fifo = sqs.create_queue(QueueName=f"fdlq-{unique}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    mixed = json.dumps({"deadLetterTargetArn": arn_of(sqs, fifo), "maxReceiveCount": 3})
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": mixed})
    assert error_code(excinfo) == "InvalidAttributeValue"
    for bad in ({"deadLetterTargetArn": arn_of(sqs, url)}, {"deadLetterTargetArn": arn_of(sqs, url),
                                                             "maxReceiveCount": 0}):
        with pytest.raises(ClientError) as excinfo:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(bad)})
        assert error_code(excinfo) == "InvalidAttributeValue"


def test_a_redrive_allow_policy_can_refuse_a_source(sqs: Any, unique: str) -> None:
    dlq = sqs.create_queue(QueueName=f"deny-{unique}",
                           Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 3})
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=f"refused-{unique}", Attributes={"RedrivePolicy": policy})
    assert error_code(excinfo) == "InvalidAttributeValue"


# The move-task operations are newer than the query-protocol SDKs: they are tested over JSON here
# and over raw query form posts in test_query_wire.py.
def test_a_move_task_returns_dead_letters_to_their_source(sqs_json: Any, unique: str, server: ServerProcess) -> None:
    sqs = sqs_json
    source, dlq = make_pair(sqs, unique, max_receives=1)
    for i in range(3):
        sqs.send_message(QueueUrl=source, MessageBody=str(i))
    sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    server.advance_clock(6)
    assert "Messages" not in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), MaxNumberOfMessagesPerSecond=100)["TaskHandle"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        [task] = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq))["Results"]
        if task["Status"] == "COMPLETED":
            break
        time.sleep(0.1)
    assert task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesMoved"] == 3
    assert task["ApproximateNumberOfMessagesToMove"] == 3 and "TaskHandle" not in task
    bodies = {m["Body"] for m in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)["Messages"]}
    assert bodies == {"0", "1", "2"}
    with pytest.raises(ClientError) as excinfo:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert error_code(excinfo) == "AWS.SimpleQueueService.UnsupportedOperation"


def test_a_move_task_can_target_another_queue_and_be_cancelled(sqs_json: Any, unique: str, server: ServerProcess) -> None:
    sqs = sqs_json
    source, dlq = make_pair(sqs, unique, max_receives=1)
    other = sqs.create_queue(QueueName=f"other-{unique}")["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=source, MessageBody=str(i))
    for _ in range(2):
        sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
        server.advance_clock(6)
    sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), DestinationArn=arn_of(sqs, other),
                                         MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    with pytest.raises(ClientError) as excinfo:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    # Recorded against AWS: a second task for the same source is an invalid parameter.
    assert error_code(excinfo) == "InvalidParameterValue"
    assert excinfo.value.response["Error"]["Message"] == (
        "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 0 <= moved < 5
    assert sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq), MaxResults=10)["Results"][0]["Status"] == "CANCELLED"


def test_a_move_task_needs_a_dead_letter_queue_as_source(sqs_json: Any, unique: str) -> None:
    sqs = sqs_json
    queue_url = sqs.create_queue(QueueName=f"plain-{unique}")["QueueUrl"]
    with pytest.raises(ClientError) as excinfo:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, queue_url))
    assert error_code(excinfo) == "InvalidParameterValue"

"""Acknowledged means committed: state survives restarts and SIGKILL."""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, EndpointConnectionError, ReadTimeoutError

from tests.conftest import ServerProcess


def test_queues_messages_and_in_flight_state_survive_a_restart(fresh_server: ServerProcess) -> None:
    sqs = fresh_server.client("sqs")
    url = sqs.create_queue(QueueName="keep", Attributes={"VisibilityTimeout": "600"}, tags={"k": "v"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="in flight")
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    held = sqs.receive_message(QueueUrl=url)["Messages"][0]
    fresh_server.restart()
    sqs = fresh_server.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "600"
    assert attributes["ApproximateNumberOfMessages"] == "1"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"k": "v"}
    other = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert other["Body"] != held["Body"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=held["ReceiptHandle"])  # the old handle still works


def test_sigkill_during_writes_loses_no_acknowledged_message(fresh_server: ServerProcess) -> None:
    sqs = fresh_server.client("sqs")
    url = sqs.create_queue(QueueName="crash")["QueueUrl"]
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer(worker: int) -> None:
        client = fresh_server.client("sqs")
        for i in range(100_000):
            if stop.is_set():
                return
            body = f"{worker}-{i}"
            try:
                client.send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(n), "MessageBody": f"{body}-{n}"} for n in range(5)])
            except (ClientError, ConnectionError, EndpointConnectionError, ReadTimeoutError):
                return
            acknowledged.extend(f"{body}-{n}" for n in range(5))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60  # generous: the kill must land mid-stream, however slow the machine
    while len(acknowledged) < 500 and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    fresh_server.kill()
    stop.set()
    for thread in threads:
        thread.join()
    fresh_server.start()
    sqs = fresh_server.client("sqs")
    stored: set[str] = set()
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", [])
        if not got:
            break
        stored.update(m["Body"] for m in got)
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged messages lost"
    assert len(acknowledged) >= 500


def test_a_running_move_task_resumes_after_a_restart(fresh_server: ServerProcess) -> None:
    sqs: Any = fresh_server.client("sqs")
    dlq = sqs.create_queue(QueueName="mt-dlq")["QueueUrl"]
    dlq_arn = "arn:aws:sqs:us-east-1:000000000000:mt-dlq"
    other = sqs.create_queue(QueueName="mt-dest")["QueueUrl"]
    sqs.create_queue(QueueName="mt-src", Attributes={
        "RedrivePolicy": '{"deadLetterTargetArn": "%s", "maxReceiveCount": 1}' % dlq_arn})
    for i in range(4):
        sqs.send_message(QueueUrl=dlq, MessageBody=str(i))
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn="arn:aws:sqs:us-east-1:000000000000:mt-dest",
                                MaxNumberOfMessagesPerSecond=1)
    fresh_server.kill()
    fresh_server.start()
    sqs = fresh_server.client("sqs")
    fresh_server.advance_clock(10)
    for _ in range(100):
        task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        if task["Status"] == "COMPLETED":
            break
        threading.Event().wait(0.1)
    assert task["Status"] == "COMPLETED"
    got = sqs.receive_message(QueueUrl=other, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == ["0", "1", "2", "3"]

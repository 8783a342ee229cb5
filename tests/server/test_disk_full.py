"""A full disk: writes answer AWS's 503 ServiceUnavailable (SDKs retry it), reads keep being served,
background work reports `degraded`, and everything recovers by itself once space returns.

The disk is filled through a test-only hook (EVENTYARD_TEST_HOOKS=1) that caps the SQLite file's
page count, so SQLite fails exactly as on a full disk ("database or disk is full").
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess

BIG = "x" * 200_000


@pytest.fixture
def hooked_server(tmp_path: Path) -> Iterator[ServerProcess]:
    # SQLite's own file is what fills up, whichever backend the rest of the suite runs on.
    process = ServerProcess(tmp_path / "data", env={"EVENTYARD_TEST_HOOKS": "1"}, storage="sqlite").start()
    yield process
    process.stop()


def cap_storage(server: ServerProcess, extra_pages: int | None) -> None:
    request = urllib.request.Request(f"{server.url}/_eventyard/test-only/storage-cap", method="POST",
                                     data=json.dumps({"extra_pages": extra_pages}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def health(server: ServerProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/_eventyard/health", timeout=10) as response:
        return json.load(response)  # type: ignore[no-any-return]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_full_disk_answers_503_keeps_reads_and_recovers_by_itself(hooked_server: ServerProcess) -> None:
    sqs, sns = hooked_server.client("sqs"), hooked_server.client("sns")
    url = sqs.create_queue(QueueName="filled")["QueueUrl"]
    topic = sns.create_topic(Name="fan-out")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=_arn(sqs, url), Attributes={"RawMessageDelivery": "true"})
    # Background work that must write while the disk is full: a redrive moving big messages, 1 a second.
    dead = sqs.create_queue(QueueName="dead")["QueueUrl"]
    work = sqs.create_queue(QueueName="work", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": _arn(sqs, dead), "maxReceiveCount": 1})})["QueueUrl"]
    for _ in range(5):
        sqs.send_message(QueueUrl=dead, MessageBody=BIG)
    sqs.start_message_move_task(SourceArn=_arn(sqs, dead), DestinationArn=_arn(sqs, work),
                                MaxNumberOfMessagesPerSecond=1)
    wait_for(lambda: _moved(sqs, dead) >= 1, "the redrive to start")

    cap_storage(hooked_server, 0)
    stored = 0
    with pytest.raises(ClientError) as refused:
        for _ in range(1000):  # what free pages are left fill up first
            sqs.send_message(QueueUrl=url, MessageBody=BIG)
            stored += 1
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ServiceUnavailable", 503)
    with pytest.raises(ClientError) as refused_publish:
        sns.publish(TopicArn=topic, Message=BIG)
    assert refused_publish.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503

    # Reads are served meanwhile.
    assert sqs.get_queue_url(QueueName="filled")["QueueUrl"] == url
    assert url in sqs.list_queues()["QueueUrls"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == str(stored)
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic

    # The redrive cannot write: health says so, with the reason.
    wait_for(lambda: health(hooked_server)["loops"].get("sqs:move-tasks", "").startswith("degraded"),
             "health to report the redrive's trouble")
    assert health(hooked_server)["status"] == "degraded"
    assert "full" in health(hooked_server)["loops"]["sqs:move-tasks"]
    assert _task(sqs, dead)["Status"] == "RUNNING"

    cap_storage(hooked_server, None)  # space comes back: no restart, no operator
    sqs.send_message(QueueUrl=url, MessageBody="after")
    sns.publish(TopicArn=topic, Message="published after")
    wait_for(lambda: _task(sqs, dead)["Status"] == "COMPLETED", "the redrive to finish")
    wait_for(lambda: health(hooked_server)["status"] == "running", "background work to report running")
    assert sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "5"
    bodies: set[str] = set()

    def delivered() -> bool:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.add(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return {"after", "published after"} <= bodies

    wait_for(delivered, "the send and the fan-out after recovery")


def _arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _task(sqs: Any, url: str) -> dict[str, Any]:
    return sqs.list_message_move_tasks(SourceArn=_arn(sqs, url))["Results"][0]  # type: ignore[no-any-return]


def _moved(sqs: Any, url: str) -> int:
    return int(_task(sqs, url).get("ApproximateNumberOfMessagesMoved", 0))

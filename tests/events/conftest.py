"""EventBridge clients and helpers: queues to observe deliveries, polling until they arrive."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import ServerProcess


@pytest.fixture
def events(server: ServerProcess) -> Any:
    return server.client("events")


@pytest.fixture
def sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


def make_queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    """(url, arn) of a new queue."""
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs: Any, url: str, count: int = 1, timeout: float = 10.0, **kwargs: Any) -> list[dict[str, Any]]:
    """Messages from `url` until `count` arrived or `timeout` passed (deliveries are asynchronous)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                     MessageAttributeNames=["All"], AttributeNames=["All"], **kwargs)
        for message in answer.get("Messages", []):
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got


def bodies(messages: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(m["Body"]) for m in messages]


def put(events: Any, detail: dict[str, Any], source: str = "my.app", detail_type: str = "thing",
        bus: str | None = None, **extra: Any) -> str:
    entry: dict[str, Any] = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), **extra}
    if bus:
        entry["EventBusName"] = bus
    answer = events.put_events(Entries=[entry])
    assert answer["FailedEntryCount"] == 0, answer
    return str(answer["Entries"][0]["EventId"])

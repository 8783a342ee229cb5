"""SNS fixtures: clients on the shared server, helpers to read what subscribers received."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ServerProcess


@pytest.fixture
def sns(server: ServerProcess) -> Any:
    return server.client("sns")


@pytest.fixture
def sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


@pytest.fixture
def topic_arn(sns: Any, unique: str) -> str:
    return str(sns.create_topic(Name=f"t-{unique}")["TopicArn"])


@pytest.fixture
def make_queue(sqs: Any, unique: str) -> Callable[..., tuple[str, str]]:
    """Create a queue; returns (url, arn)."""
    counter = iter(range(1000))

    def make(name: str | None = None, fifo: bool = False) -> tuple[str, str]:
        name = name or f"q{next(counter)}-{unique}" + (".fifo" if fifo else "")
        attributes = {"FifoQueue": "true"} if fifo else {}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    return make


def receive(sqs: Any, url: str, count: int, timeout: float = 10.0, **kwargs: Any) -> list[dict[str, Any]]:
    """Receive (and delete) exactly `count` messages, waiting up to `timeout` seconds."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs)
        for message in response.get("Messages", []):
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got


def assert_empty(sqs: Any, url: str, wait: float = 0.5) -> None:
    time.sleep(wait)
    response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    assert response.get("Messages", []) == []


def captured(server: ServerProcess, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in filters.items())
    with urllib.request.urlopen(f"{server.url}/_eventyard/sns/deliveries?{query}", timeout=5) as response:
        return list(json.load(response)["deliveries"])


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")

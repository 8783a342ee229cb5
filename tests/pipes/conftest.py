"""Helpers for EventBridge Pipes tests: clients, queues, and waiting for a pipe to settle."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

ROLE = "arn:aws:iam::000000000000:role/pipe-role"
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1) -> T:
    """The first truthy answer of `probe` (a pipe's work is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def settled(pipes: Any, name: str, state: str, timeout: float = 30.0) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        pipe = pipes.describe_pipe(Name=name)
        return pipe if pipe["CurrentState"] == state else None
    return eventually(probe, timeout)


def queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def drain(sqs: Any, url: str, want: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Receive (and delete) until `want` messages arrived."""
    got: list[dict[str, Any]] = []

    def probe() -> bool:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                     MessageAttributeNames=["All"])
        for message in answer.get("Messages", []):
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(got) >= want
    eventually(probe, timeout)
    return got


def bodies(messages: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(m["Body"]) for m in messages]


TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "pipes.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def ensure_role(server: Any) -> None:
    """The pipes' role, as IAM must have it before a pipe can run."""
    iam = server.client("iam")
    try:
        iam.create_role(RoleName=ROLE.rsplit("/", 1)[1], AssumeRolePolicyDocument=TRUST)
    except iam.exceptions.EntityAlreadyExistsException:
        pass


@pytest.fixture
def pipes(server: Any) -> Any:
    ensure_role(server)
    return server.client("pipes")


@pytest.fixture
def sqs(server: Any) -> Any:
    return server.client("sqs")

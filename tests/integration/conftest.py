"""Helpers for paths that cross services: clients on one server, and polling until work arrives."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.events.conftest import make_queue, receive

__all__ = ["ROLE", "TRACE", "make_queue", "receive", "eventually", "queue_arn"]

ROLE = "arn:aws:iam::000000000000:role/integration"
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.1) -> T:
    """The first truthy answer of `probe` (deliveries between services are asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing arrived within {timeout} s")
        time.sleep(interval)


def queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

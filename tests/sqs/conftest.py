"""SQS clients over both wire protocols: most scenarios run once per protocol."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ServerProcess


@pytest.fixture(params=["json", "query"])
def sqs(request: pytest.FixtureRequest, server: ServerProcess) -> Any:
    return server.client("sqs") if request.param == "json" else server.legacy_sqs_client()


@pytest.fixture
def sqs_json(server: ServerProcess) -> Any:
    return server.client("sqs")


@pytest.fixture
def queue_url(sqs: Any, unique: str) -> str:
    return str(sqs.create_queue(QueueName=f"q-{unique}")["QueueUrl"])


@pytest.fixture
def fifo_url(sqs: Any, unique: str) -> str:
    return str(sqs.create_queue(QueueName=f"f-{unique}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])

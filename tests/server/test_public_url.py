"""EVENTYARD_PUBLIC_URL: every URL the server hands out starts with it (queue URLs, SNS's signing
certificate and unsubscribe links), so clients behind a container port mapping or a proxy can follow
them; its host is a name the server answers to. --log-requests logs one line per API call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess

PUBLIC = "https://queues.example.test:8443"


@pytest.fixture
def public_server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "data", env={"EVENTYARD_PUBLIC_URL": PUBLIC, "EVENTYARD_LOG_REQUESTS": "1"})
    process.start()
    yield process
    process.stop()


def test_handed_out_urls_start_with_the_public_url(public_server: ServerProcess, unique: str) -> None:
    sqs, sns = public_server.client("sqs"), public_server.client("sns")
    url = sqs.create_queue(QueueName=f"q-{unique}")["QueueUrl"]
    assert url == f"{PUBLIC}/queue/us-east-1/000000000000/q-{unique}"
    assert sqs.get_queue_url(QueueName=f"q-{unique}")["QueueUrl"] == url
    assert url in sqs.list_queues()["QueueUrls"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name=f"t-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    envelope: dict[str, Any] = {}
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            envelope = json.loads(messages[0]["Body"])
            break
    assert envelope["SigningCertURL"].startswith(f"{PUBLIC}/_eventyard/sns/")
    assert envelope["UnsubscribeURL"].startswith(f"{PUBLIC}/?Action=Unsubscribe&SubscriptionArn=")


def test_the_request_log_names_service_operation_status_and_latency(public_server: ServerProcess, unique: str) -> None:
    sqs = public_server.client("sqs")
    sqs.create_queue(QueueName=f"logged-{unique}")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=f"missing-{unique}")
    lines = public_server.log_path.read_text().splitlines()
    assert any(line.endswith("ms") and " sqs CreateQueue 200 " in line for line in lines), lines[-5:]
    assert any(" sqs GetQueueUrl 400 " in line for line in lines), lines[-5:]

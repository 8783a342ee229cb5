"""Helpers for Step Functions tests against the live server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

ROLE = "arn:aws:iam::000000000000:role/sfn-role"


@pytest.fixture
def sfn(server: Any) -> Any:
    return sfn_client(server)


def sfn_client(server: Any) -> Any:
    """StartSyncExecution's model adds a `sync-` host prefix; a local endpoint has no such host."""
    import boto3
    from botocore.config import Config

    from tests.conftest import CLIENT_CONFIG

    return boto3.client("stepfunctions", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=CLIENT_CONFIG.merge(Config(inject_host_prefix=False)))


@pytest.fixture
def make_machine(sfn: Any, unique: str) -> Callable[..., str]:
    created: list[str] = []

    def make(definition: dict[str, Any], type_: str = "STANDARD", name: str | None = None) -> str:
        name = name or f"sm-{unique}-{len(created)}"
        arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE,
                                       type=type_)["stateMachineArn"]
        created.append(arn)
        return str(arn)

    yield make
    for arn in created:
        try:
            sfn.delete_state_machine(stateMachineArn=arn)
        except Exception:
            pass


def finished(sfn: Any, arn: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll DescribeExecution until the execution leaves RUNNING."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"execution still running: {arn}")
        time.sleep(0.05)


def run_to_end(sfn: Any, machine: str, input_: Any = None, timeout: float = 20.0) -> dict[str, Any]:
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(input_ or {}))["executionArn"]
    return finished(sfn, arn, timeout)


def history_types(sfn: Any, arn: str) -> list[str]:
    return [e["type"] for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]]


@pytest.fixture
def sfn_client_no_validation(server: Any) -> Any:
    """A client that sends what botocore would refuse, to see the server's own validation."""
    import boto3
    from botocore.config import Config

    return boto3.client("stepfunctions", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1}))


def drain_json(sqs: Any, url: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Up to `count` JSON message bodies from a queue, deleting them, within `timeout` seconds."""
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < count and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies

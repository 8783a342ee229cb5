"""Fault rules on two nodes sharing one PostgreSQL database: rules put on one node apply on the other
within a bounded time, and the fired counts are the cluster's."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.faults.conftest import faults_request, set_faults
from tests.faults.test_api_faults import client, outcome
from tests.storage_backends import new_postgres_database


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    url = new_postgres_database()  # skips (or fails in CI) without PostgreSQL
    nodes = [ServerProcess(tmp_path / f"node-{i}", storage=url) for i in range(2)]
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def soon(probe: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (answer := probe()):
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.1)
    return answer


def test_rules_put_on_one_node_apply_on_the_other_and_counts_add_up(two_nodes: list[ServerProcess],
                                                                    unique: str) -> None:
    first, second = two_nodes
    url = client(first, "sqs").create_queue(QueueName=f"n-{unique}")["QueueUrl"]
    set_faults(first, [{"service": "sqs", "resource": f"n-{unique}", "operation": "SendMessage",
                        "fault": "throttle"}], seed=3)
    on_second = client(second, "sqs")
    soon(lambda: outcome(lambda: on_second.send_message(QueueUrl=url, MessageBody="x")) == "RequestThrottled")
    assert outcome(lambda: client(first, "sqs").send_message(QueueUrl=url, MessageBody="x")) == "RequestThrottled"
    soon(lambda: faults_request(first, "GET")[1]["rules"][0]["fired"] >= 2)
    faults_request(second, "DELETE")
    soon(lambda: outcome(lambda: client(first, "sqs").send_message(QueueUrl=url, MessageBody="x")) == "ok")

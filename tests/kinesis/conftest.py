"""Kinesis fixtures: a server whose stream transitions take 50 ms, and helpers to wait for ACTIVE."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess

FAST_TRANSITIONS = {"EVENTYARD_KINESIS_TRANSITION_SECONDS": "0.05"}


@pytest.fixture(scope="session")
def kinesis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("kinesis") / "data", env=FAST_TRANSITIONS).start()
    yield process
    process.stop()


@pytest.fixture
def fresh_kinesis_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, for kills, restarts and clock moves that must not leak."""
    process = ServerProcess(tmp_path / "data", env=FAST_TRANSITIONS).start()
    yield process
    process.stop()


@pytest.fixture
def kinesis(kinesis_server: ServerProcess) -> Any:
    return kinesis_server.client("kinesis")


def wait_for_status(client: Any, name: str, status: str = "ACTIVE", timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == status or time.monotonic() > deadline:
            assert summary["StreamStatus"] == status
            return summary
        time.sleep(0.02)


@pytest.fixture
def make_stream(kinesis: Any, unique: str) -> Callable[..., str]:
    """Create a stream, wait until it is ACTIVE, and return its name."""
    counter = iter(range(1000))

    def make(shards: int = 1, **kwargs: Any) -> str:
        name = f"stream-{unique}-{next(counter)}"
        if "StreamModeDetails" in kwargs:
            kinesis.create_stream(StreamName=name, **kwargs)
        else:
            kinesis.create_stream(StreamName=name, ShardCount=shards, **kwargs)
        wait_for_status(kinesis, name)
        return name

    return make


def read_all(client: Any, name: str, shard_id: str, iterator_type: str = "TRIM_HORIZON") -> list[dict[str, Any]]:
    """Every record of a shard, following NextShardIterator until the shard's end or an empty read."""
    iterator = client.get_shard_iterator(StreamName=name, ShardId=shard_id,
                                         ShardIteratorType=iterator_type)["ShardIterator"]
    out: list[dict[str, Any]] = []
    while iterator:
        response = client.get_records(ShardIterator=iterator)
        out.extend(response["Records"])
        iterator = response.get("NextShardIterator")
        if not response["Records"] and response["MillisBehindLatest"] == 0:
            break
    return out


@pytest.fixture
def raw_kinesis(kinesis_server: ServerProcess) -> Any:
    """A client that skips botocore's own parameter checks, so the server's validation answers."""
    import boto3
    from botocore.config import Config

    return boto3.client("kinesis", endpoint_url=kinesis_server.url, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 1}, parameter_validation=False))

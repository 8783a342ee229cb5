"""A second real client: the AWS SDK for JavaScript v3 reads what boto3 wrote, and writes too.

The SDK is installed by this test's set-up from npm into tests/kinesis/js/node_modules (gitignored).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.kinesis.conftest import read_all

JS_DIR = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def javascript_sdk() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm are not installed: the AWS SDK for JavaScript v3 check needs them")
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-kinesis").exists():
        install = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                                 capture_output=True, text=True, timeout=300)
        if install.returncode != 0:
            pytest.fail(f"npm install of @aws-sdk/client-kinesis failed:\n{install.stderr}")
    return Path(node)


def test_the_javascript_sdk_reads_the_same_records_in_the_same_order(
        javascript_sdk: Path, kinesis_server: ServerProcess, kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(2)
    kinesis.put_records(StreamName=name, Records=[{"Data": f"py-{i}".encode(), "PartitionKey": f"k{i % 4}"}
                                                  for i in range(9)])
    run = subprocess.run([str(javascript_sdk), "read_stream.mjs", kinesis_server.url, name], cwd=JS_DIR,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["status"] == "ACTIVE"
    expected = [(shard, r["SequenceNumber"], r["PartitionKey"], r["Data"].decode(),
                 int(r["ApproximateArrivalTimestamp"].timestamp() * 1000 + 0.5))
                for shard in ("shardId-000000000000", "shardId-000000000001")
                for r in read_all(kinesis, name, shard)]
    got = [(r["shard"], r["sequence"], r["key"], r["data"], r["arrival"]) for r in seen["records"]]
    assert got == expected
    assert (seen["putShard"], seen["put"], "from-js", "written by js") in [e[:4] for e in expected]
    assert len(got) == 10


def test_the_javascript_sdk_subscribes_to_a_shard_over_http2(
        javascript_sdk: Path, kinesis_server: ServerProcess, kinesis: Any, make_stream: Callable[..., str]) -> None:
    """The SDK's default handler speaks HTTP/2: the event stream and a PutRecords share one connection,
    and leaving the loop resets the stream while the server keeps serving."""
    name = make_stream()
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="js-h2")["Consumer"]["ConsumerARN"]
    deadline = time.monotonic() + 30
    while kinesis.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "consumer did not become ACTIVE"
        time.sleep(0.02)
    run = subprocess.run([str(javascript_sdk), "subscribe.mjs", kinesis_server.url, name, consumer, "5"], cwd=JS_DIR,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["received"] == [f"js-{i}" for i in range(5)]
    assert [r["Data"] for r in read_all(kinesis, name, "shardId-000000000000")] == [f"js-{i}".encode() for i in range(5)]

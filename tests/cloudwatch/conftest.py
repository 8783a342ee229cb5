"""CloudWatch clients for each protocol the model lists, and servers to point them at.

botocore 1.44 speaks JSON 1.0 to CloudWatch; the same botocore speaks the query protocol or RPC v2 CBOR
when the model it loads lists only that protocol (a copy of its own model, with `protocols` narrowed,
put first on its data path): its own serializers and parsers then do the work, as they do for SDKs
that pick those protocols.
"""

from __future__ import annotations

import copy
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest

from tests.conftest import CLIENT_CONFIG, ServerProcess

PROTOCOLS = ("json", "query", "smithy-rpc-v2-cbor")


def _model_dir(root: Path, protocol: str) -> Path:
    raw = copy.deepcopy(botocore.loaders.create_loader().load_service_model("cloudwatch", "service-2"))
    raw["metadata"]["protocol"] = protocol
    raw["metadata"]["protocols"] = [protocol]
    target = root / protocol / "cloudwatch" / "2010-08-01"
    target.mkdir(parents=True, exist_ok=True)
    (target / "service-2.json").write_text(json.dumps(raw))
    return root / protocol


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cloudwatch-models")
    return {protocol: _model_dir(root, protocol) for protocol in PROTOCOLS}


def client_for(server: ServerProcess, protocol: str, model_dirs: dict[str, Path], service: str = "cloudwatch",
               region: str = "us-east-1") -> Any:
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(model_dirs[protocol]))
    return boto3.Session(botocore_session=session).client(
        service, endpoint_url=server.url, region_name=region, aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret", config=CLIENT_CONFIG)


@pytest.fixture(params=PROTOCOLS)
def cloudwatch(request: pytest.FixtureRequest, server: ServerProcess, model_dirs: dict[str, Path]) -> Any:
    """A CloudWatch client of each protocol in turn (the test runs once per protocol)."""
    client = client_for(server, request.param, model_dirs)
    assert client.meta.service_model.resolved_protocol == request.param
    return client


@pytest.fixture
def cw(server: ServerProcess) -> Any:
    return server.client("cloudwatch")


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own whose clock the test moves (alarm evaluations follow it)."""
    process = ServerProcess(tmp_path / "data").start()
    yield process
    process.stop()


def server_now(server: ServerProcess) -> float:
    """The server's clock (the test may have moved it forward)."""
    with urllib.request.urlopen(f"{server.url}/_eventyard/clock", timeout=5) as response:
        return float(json.load(response)["now"])


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, message: str = "condition") -> Any:
    """Poll until `condition()` is truthy; generous deadlines, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.05)

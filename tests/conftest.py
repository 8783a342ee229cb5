"""Fixtures that run the real server in a subprocess on a free port, and clients that talk to it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config

from tests.roles import create_test_roles
from tests.storage_backends import TEST_STORAGE, drop_created_databases, postgres_database_for, query_database

ROOT = Path(__file__).resolve().parents[1]
LEGACY_MODELS = ROOT / ".venv" / "legacy-models"
CLIENT_CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One `eventyard serve` process with its own data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, storage: str | None = None) -> None:
        """`storage`: a postgresql:// URL to share with other processes; by default the suite's backend
        (EVENTYARD_TEST_STORAGE): SQLite in `data_dir`, or a PostgreSQL database of this server's own."""
        self.data_dir = data_dir
        self.port = free_port()
        self.storage = storage if storage is not None else (
            postgres_database_for(data_dir) if TEST_STORAGE == "postgresql" else "sqlite")
        self.env = {**os.environ, "EVENTYARD_CLOCK_CONTROL": "1", "EVENTYARD_STORAGE": self.storage, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--data-dir", str(self.data_dir), "--log-level", "warning"],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; log:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_eventyard/health", timeout=1) as response:
                    ready = bool(json.load(response)["services"])
            except OSError:
                ready = False
            if ready:
                create_test_roles(self.url, self.env)  # AWS refuses functions and state machines without a role
                return self
            time.sleep(0.05)
        raise RuntimeError(f"server did not start; log:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a read of the server's database as committed (what a restart would find); [] when
        the table does not exist yet."""
        return query_database(self.storage, self.data_dir, sql)

    def advance_clock(self, seconds: float) -> None:
        request = urllib.request.Request(
            f"{self.url}/_eventyard/clock", data=json.dumps({"advance": seconds}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def client(self, service: str, region: str = "us-east-1", **kwargs: Any) -> Any:
        kwargs.setdefault("config", CLIENT_CONFIG)
        return boto3.client(
            service, endpoint_url=self.url, region_name=region, aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret", **kwargs,
        )

    def legacy_sqs_client(self, region: str = "us-east-1", access_key: str = "AKIDEXAMPLE",
                          secret_key: str = "secret") -> Any:
        """An SQS client that speaks the query protocol, as SDKs before SQS's JSON move did."""
        if not (LEGACY_MODELS / "sqs").exists():  # `make test` fetches it first; this covers bare pytest
            subprocess.run([sys.executable, str(ROOT / "tests/tools/fetch_legacy_sqs_model.py"), str(LEGACY_MODELS)],
                           check=True)
        session = botocore.session.get_session()
        session.get_component("data_loader").search_paths.insert(0, str(LEGACY_MODELS))
        return boto3.Session(botocore_session=session).client(
            "sqs", endpoint_url=self.url, region_name=region, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, config=CLIENT_CONFIG,
        )


def start_authenticated(data_dir: Path, *keys: tuple[str, str, str], env: dict[str, str] | None = None) -> ServerProcess:
    """A started server with `--auth sigv4` that knows these (access key, secret, account) keys."""
    return ServerProcess(data_dir, env={
        "EVENTYARD_AUTH": "sigv4", "EVENTYARD_ACCESS_KEYS": ",".join(":".join(key) for key in keys),
        **(env or {})}).start()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("shared") / "data").start()
    yield process
    process.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, for restarts, kills and clock moves that must not leak."""
    process = ServerProcess(tmp_path / "data").start()
    yield process
    process.stop()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """PostgreSQL databases made for this session's servers go when it ends, after every server stopped.
    A hook, not a session fixture: each DROP DATABASE waits for a checkpoint, and hundreds of them on a
    busy disk outlast the per-test timeout a fixture's teardown runs under."""
    drop_created_databases()


def pytest_report_header() -> str:
    return f"eventyard storage backend: {TEST_STORAGE} (EVENTYARD_TEST_STORAGE)"

"""Start and stop the servers a benchmark compares: Eventyard and its peers, on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Peer:
    name: str
    command: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    workdir: str = ""
    scratch: list[str] = field(default_factory=list)  # removed at stop (e.g. Eventyard's data dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_service: str = "sqs", timeout: float = 60) -> Peer:
        self.workdir = tempfile.mkdtemp(prefix=f"bench-{self.name}-")
        self.process = subprocess.Popen(self.command, cwd=self.workdir, env={**os.environ, **self.env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        client = self.client(ready_service)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                if ready_service == "sqs":
                    client.list_queues()
                else:
                    urllib.request.urlopen(self.url, timeout=1)
                return self
            except Exception:  # not up yet
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start in {timeout}s")

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 2}, max_pool_connections=50))

    def cpu_seconds(self) -> float:
        """CPU used by the server process and its children so far (from /proc)."""
        assert self.process is not None
        total = 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        pids = [self.process.pid] + _children(self.process.pid)
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError):
                pass
        return total

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for path in [self.workdir, *self.scratch]:
            shutil.rmtree(path, ignore_errors=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
                    found.extend(_children(int(entry.name)))
            except (OSError, IndexError):
                pass
    return found


def eventyard() -> Peer:
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-eventyard-data-")
    return Peer("eventyard", [sys.executable, "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port", str(port),
                              "--data-dir", data, "--log-level", "warning"], port,
                env={"PYTHONPATH": str(ROOT)}, scratch=[data])


def moto() -> Peer:
    port = free_port()
    return Peer("moto", [shutil.which("moto_server") or "moto_server", "-H", "127.0.0.1", "-p", str(port)], port)


def ministack() -> Peer:
    port = free_port()
    return Peer("ministack", [shutil.which("ministack") or "ministack"], port,
                env={"BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)})


def available(factories: list[Any]) -> list[Peer]:
    peers = []
    for factory in factories:
        peer = factory()
        if peer.name != "eventyard" and shutil.which(peer.command[0]) is None:
            print(f"# {peer.name} not installed (pip install -e '.[bench]'); skipped")
            continue
        peers.append(peer)
    return peers


EXECUTION_ROLE_TRUST = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", '
                        '"Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}}]}')


def create_execution_role(url: str, role_arn: str) -> None:
    """The role a benchmark's functions or state machines run as: AWS (and Eventyard) refuse one that
    does not exist. A peer without IAM needs none, so its refusal is not an error here."""
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test")
    try:
        iam.create_role(RoleName=role_arn.rsplit("/", 1)[1], AssumeRolePolicyDocument=EXECUTION_ROLE_TRUST)
    except Exception:  # exists already, or the peer serves no IAM
        pass

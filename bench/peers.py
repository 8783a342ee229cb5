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

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, ready_service: str = "sqs", timeout: float = 60) -> Peer:
        self.workdir = tempfile.mkdtemp(prefix=f"bench-{self.name}-")
        self.process = subprocess.Popen(self.command, cwd=self.workdir, env={**os.environ, **self.env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        client = self.client("sqs") if ready_service == "sqs" else None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                if client is not None:
                    client.list_queues()
                elif ready_service == "health":
                    urllib.request.urlopen(f"{self.url}/_eventyard/health", timeout=5)
                elif ready_service == "tcp":
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
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


def eventyard(checkout: Path | None = None, name: str = "eventyard") -> Peer:
    """Eventyard from this tree, or from `checkout` (another commit's tree, for A/B runs in one go)."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-eventyard-data-")
    return Peer(name, [sys.executable, "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port", str(port),
                       "--data-dir", data, "--log-level", "warning"], port,
                env={"PYTHONPATH": str((checkout or ROOT).resolve())}, scratch=[data])


def _command(name: str) -> str:
    """A console script of the environment running the benchmark (its bin/ need not be on PATH)."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name) or name


def moto() -> Peer:
    port = free_port()
    return Peer("moto", [_command("moto_server"), "-H", "127.0.0.1", "-p", str(port)], port)


def ministack() -> Peer:
    port = free_port()
    return Peer("ministack", [_command("ministack")], port, env={"BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)})


KINESALITE_DIR = Path(os.environ.get("KINESALITE_DIR", Path.home() / ".cache" / "eventyard-bench" / "kinesalite"))


def kinesalite() -> Peer:
    """kinesalite from npm (installed into KINESALITE_DIR on first use), streams ACTIVE at once."""
    port = free_port()
    cli = KINESALITE_DIR / "node_modules" / "kinesalite" / "cli.js"
    if not cli.exists() and shutil.which("npm"):
        KINESALITE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "kinesalite"],
                       cwd=KINESALITE_DIR, capture_output=True, timeout=600)
    command = ["node", str(cli), "--port", str(port), "--host", "127.0.0.1", "--createStreamMs", "0",
               "--updateStreamMs", "0", "--deleteStreamMs", "0"] if cli.exists() else ["kinesalite-not-installed"]
    return Peer("kinesalite", command, port)


def available(factories: list[Any]) -> list[Peer]:
    peers = []
    for factory in factories:
        peer = factory()
        if peer.name != "eventyard" and shutil.which(peer.command[0]) is None:
            print(f"# {peer.name} not installed (pip install -e '.[bench]'); skipped")
            continue
        peers.append(peer)
    return peers


def select(names: str, baseline: str | None = None) -> list[Peer]:
    """The servers named (comma-separated: eventyard, moto, ministack, kinesalite), plus Eventyard from
    the `baseline` tree (e.g. a `git worktree` of an older commit) as "eventyard@base"."""
    factories: dict[str, Any] = {"eventyard": eventyard, "moto": moto, "ministack": ministack,
                                 "kinesalite": kinesalite}
    chosen = [factories[name.strip()] for name in names.split(",") if name.strip()]
    found = available(chosen)
    if baseline:
        found.insert(1, eventyard(Path(baseline), "eventyard@base"))
    return found


def each(found: list[Peer], run: Any) -> None:
    """Start each server in turn, `run(peer)`, stop it; a server that breaks is reported, not fatal."""
    for peer in found:
        try:
            peer.start(ready_service="tcp" if peer.name == "kinesalite" else "sqs")
            run(peer)
        except Exception as error:  # the others still run
            print(f"# {peer.name} failed: {error}")
        finally:
            peer.stop()


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

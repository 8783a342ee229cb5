"""`eventyard serve --workers N`: N processes answer on one port from one PostgreSQL database, and a
worker that dies is replaced; on SQLite the command refuses and says why."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port
from tests.storage_backends import new_postgres_database


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def health_node(port: int) -> str | None:
    """The node (process) that answered a fresh connection's health request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/_eventyard/health")
        body = json.loads(connection.getresponse().read())
        return str(body["storage"]["node"])
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def test_workers_share_the_port_and_the_database_and_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    url = new_postgres_database()
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "eventyard", "serve", "--port", str(port), "--data-dir",
                               str(tmp_path / "data"), "--storage", url, "--workers", "2", "--log-level", "warning"],
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        nodes: set[str] = set()
        deadline = time.monotonic() + 60  # bounds start-up; the loop ends as soon as both answered
        while len(nodes) < 2 and time.monotonic() < deadline:
            node = health_node(port)
            if node is not None:
                nodes.add(node)
            else:
                time.sleep(0.1)
        assert len(nodes) == 2, (tmp_path / "serve.log").read_text()

        workers = children(server.pid)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        replaced: set[str] = set()
        deadline = time.monotonic() + 60
        while len(replaced - nodes) < 1 and time.monotonic() < deadline:
            node = health_node(port)
            if node is not None:
                replaced.add(node)
        assert replaced - nodes, "the killed worker was not replaced"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
        log.close()


def test_workers_refuse_sqlite(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "eventyard", "serve", "--port", str(free_port()), "--data-dir",
                           str(tmp_path / "data"), "--storage", "sqlite", "--workers", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--workers needs shared storage" in done.stderr


@pytest.fixture(autouse=True)
def _no_inherited_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTYARD_STORAGE", raising=False)

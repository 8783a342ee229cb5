"""A storage outage degrades background work visibly, and the work resumes by itself afterwards."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import urllib.request
from collections.abc import Iterator

import psycopg

from tests.conftest import ServerProcess
from tests.storage_backends import POSTGRES_ADMIN


def health(server: ServerProcess) -> dict[str, object]:
    with urllib.request.urlopen(server.url + "/_eventyard/health", timeout=10) as response:
        return json.load(response)  # type: ignore[no-any-return]


def wait_for(condition: object, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout  # bounds a hang; the outage itself ends when the test says
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def test_a_locked_database_degrades_health_and_scheduled_deliveries_resume_after(fresh_server: ServerProcess) -> None:
    sqs, events = fresh_server.client("sqs"), fresh_server.client("events")
    url = sqs.create_queue(QueueName="ticks")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="every-minute", Targets=[{"Id": "q", "Arn": arn}])

    with outage(fresh_server) as reason:
        wait_for(lambda: health(fresh_server)["loops"]["timers"] != "running")  # type: ignore[index]
        state = health(fresh_server)
        assert state["status"] == "degraded"
        assert state["loops"]["timers"].startswith(f"degraded: StorageUnavailable: {reason}")  # type: ignore[index]
        assert state["services"]["events"].startswith("degraded")  # type: ignore[index]

    wait_for(lambda: health(fresh_server)["status"] == "running")
    fresh_server.advance_clock(61)
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"]
    assert json.loads(received[0]["Body"])["detail-type"] == "Scheduled Event"


@contextlib.contextmanager
def outage(server: ServerProcess) -> Iterator[str]:
    """The server's database refuses work until the block ends; yields the start of the reason it gives."""
    if not server.storage.startswith("postgres"):
        # Another process takes SQLite's write lock and keeps it past the server's busy timeout.
        blocker = sqlite3.connect(server.data_dir / "eventyard.sqlite3", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield "database is locked"
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    # PostgreSQL: the database takes no connections and the server's are cut (as in a failover).
    name = server.storage.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield "PostgreSQL"
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

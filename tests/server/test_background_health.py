"""A storage outage degrades background work visibly, and the work resumes by itself afterwards."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request

from tests.conftest import ServerProcess


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

    # Another process takes SQLite's write lock and keeps it past the server's busy timeout.
    blocker = sqlite3.connect(fresh_server.data_dir / "eventyard.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        wait_for(lambda: health(fresh_server)["loops"]["timers"] != "running")  # type: ignore[index]
        state = health(fresh_server)
        assert state["status"] == "degraded"
        assert state["loops"]["timers"] == "degraded: StorageUnavailable: database is locked"  # type: ignore[index]
        assert state["services"]["events"].startswith("degraded")  # type: ignore[index]
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    wait_for(lambda: health(fresh_server)["status"] == "running")
    fresh_server.advance_clock(61)
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"]
    assert json.loads(received[0]["Body"])["detail-type"] == "Scheduled Event"

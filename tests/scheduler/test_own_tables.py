"""Scheduler owns its tables: schedules and groups written by an older Eventyard into EventBridge's
tables are moved into Scheduler's when the database is migrated, and EventBridge's keep its own rows.
Runs on the suite's backend (EVENTYARD_TEST_STORAGE)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventyard.services.events import store as events_store
from eventyard.services.events.schema import MIGRATIONS as EVENTS_MIGRATIONS
from eventyard.services.scheduler import schedules
from eventyard.services.scheduler import store as scheduler_store
from eventyard.services.scheduler.schema import MIGRATIONS as SCHEDULER_MIGRATIONS
from eventyard.storage import Connection, Database, open_storage
from tests.storage_backends import TEST_STORAGE, new_postgres_database

ACCOUNT, REGION = "000000000000", "us-east-1"
GROUP_ARN = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/g"
BUS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/b"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    storage = new_postgres_database() if TEST_STORAGE.startswith("postgres") else "sqlite"
    database = open_storage(storage, tmp_path)
    yield database
    database.close()


def older_rows(conn: Connection) -> None:
    """What Eventyard wrote when Scheduler shared EventBridge's tables."""
    group = {"Name": "g", "Arn": GROUP_ARN, "State": "ACTIVE", "CreationDate": 1.0, "LastModificationDate": 1.0}
    events_store.put(conn, schedules.GROUP, ACCOUNT, REGION, "g", group)
    events_store.put(conn, schedules.SCHEDULE, ACCOUNT, REGION, "g/s", {"Name": "s", "GroupName": "g"})
    events_store.put(conn, "event-bus", ACCOUNT, REGION, "b", {"Name": "b", "Arn": BUS_ARN})
    events_store.set_tags(conn, GROUP_ARN, [{"Key": "team", "Value": "a"}])
    events_store.set_tags(conn, BUS_ARN, [{"Key": "team", "Value": "b"}])


def test_schedules_groups_and_their_tags_move_to_schedulers_tables(db: Database) -> None:
    db.migrate(EVENTS_MIGRATIONS)
    db.run_sync(older_rows)
    assert db.migrate(SCHEDULER_MIGRATIONS) == ["scheduler-0001-own-tables"]

    def read(conn: Connection) -> dict[str, object]:
        return {
            "schedule": scheduler_store.get(conn, schedules.SCHEDULE, ACCOUNT, REGION, "g/s"),
            "group": scheduler_store.get(conn, schedules.GROUP, ACCOUNT, REGION, "g"),
            "group tags": scheduler_store.get_tags(conn, GROUP_ARN),
            "left in events": [json.loads(row[0])["Name"] for row in conn.execute(
                "SELECT doc FROM events_resources ORDER BY name")],
            "bus tags": events_store.get_tags(conn, BUS_ARN),
            "group tags in events": events_store.get_tags(conn, GROUP_ARN),
        }

    found = db.run_sync(read)
    assert found["schedule"] == {"Name": "s", "GroupName": "g"}
    assert found["group"] is not None and found["group"]["Arn"] == GROUP_ARN  # type: ignore[index]
    assert found["group tags"] == [{"Key": "team", "Value": "a"}]
    assert found["left in events"] == ["b"]
    assert found["bus tags"] == [{"Key": "team", "Value": "b"}]
    assert found["group tags in events"] == []

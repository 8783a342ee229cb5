"""The SQLite backend: group commit, per-request rollback, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from eventyard.storage import Migration, SqliteDatabase

SCHEMA = [Migration("test-0001", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")]


@pytest.fixture
def db(tmp_path: Path) -> SqliteDatabase:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    database.migrate(SCHEMA)
    return database


def test_migrations_apply_once(db: SqliteDatabase) -> None:
    assert db.migrate(SCHEMA) == []
    assert db.migrate([*SCHEMA, Migration("test-0002", "ALTER TABLE items ADD COLUMN extra TEXT")]) == ["test-0002"]


def test_concurrent_writes_share_commits_and_all_land(db: SqliteDatabase, tmp_path: Path) -> None:
    async def main() -> None:
        db.start()
        try:
            await asyncio.gather(*(db.write(lambda c, i=i: c.execute("INSERT INTO items (name) VALUES (?)", (str(i),)))
                                   for i in range(500)))
        finally:
            db.close()

    asyncio.run(main())
    assert db.groups_committed < 500  # many requests per transaction
    assert db.requests_committed == 500
    check = sqlite3.connect(tmp_path / "db.sqlite3")
    assert check.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 500


def test_a_failing_request_rolls_back_alone(db: SqliteDatabase, tmp_path: Path) -> None:
    def insert_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO items (name) VALUES ('doomed')")
        raise ValueError("refused")

    async def main() -> list[object]:
        db.start()
        try:
            return await asyncio.gather(
                db.write(lambda c: c.execute("INSERT INTO items (name) VALUES ('kept')").rowcount),
                db.write(insert_then_fail),
                db.write(lambda c: c.execute("INSERT INTO items (name) VALUES ('also kept')").rowcount),
                return_exceptions=True,
            )
        finally:
            db.close()

    results = asyncio.run(main())
    assert results[0] == 1 and isinstance(results[1], ValueError) and results[2] == 1
    check = sqlite3.connect(tmp_path / "db.sqlite3")
    assert sorted(r[0] for r in check.execute("SELECT name FROM items")) == ["also kept", "kept"]


def test_run_sync_commits_or_rolls_back(db: SqliteDatabase) -> None:
    db.run_sync(lambda c: c.execute("INSERT INTO items (name) VALUES ('a')"))
    with pytest.raises(sqlite3.IntegrityError):
        db.run_sync(lambda c: (c.execute("INSERT INTO items (name) VALUES ('b')"),
                               c.execute("INSERT INTO items (name) VALUES ('a')")))
    assert db.run_sync(lambda c: [r[0] for r in c.execute("SELECT name FROM items")]) == ["a"]

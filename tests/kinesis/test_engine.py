"""The Kinesis domain modules called directly, on a real SQLite database, with a manual clock."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.runtime.clock import ManualClock
from eventyard.services.kinesis import iterators, names, records, shards
from eventyard.services.kinesis import streams as stream_store
from eventyard.services.kinesis.records import Entry
from eventyard.services.kinesis.schema import MIGRATIONS
from eventyard.services.kinesis.streams import StreamKey
from eventyard.storage import SqliteDatabase
from eventyard.storage.sqlite import translate_ddl

KEY = StreamKey("000000000000", "us-east-1", "engine")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "k.sqlite3")
    database.migrate(timers.MIGRATIONS)
    database.migrate(MIGRATIONS)
    yield database
    database.close()


def create(db: SqliteDatabase, clock: ManualClock, count: int = 1) -> None:
    db.run_sync(lambda c: stream_store.create(c, KEY, count, "PROVISIONED", {}, 1024, clock.now(), 1.0))


def test_status_moves_from_creating_to_active_when_the_clock_passes_its_due_time(db: SqliteDatabase) -> None:
    clock = ManualClock()
    create(db, clock)
    assert db.run_sync(lambda c: stream_store.get(c, KEY, clock.now())).status == "CREATING"
    clock.advance(0.999)
    assert db.run_sync(lambda c: stream_store.get(c, KEY, clock.now())).status == "CREATING"
    clock.advance(0.002)
    assert db.run_sync(lambda c: stream_store.get(c, KEY, clock.now())).status == "ACTIVE"
    due = db.run_sync(lambda c: c.execute("SELECT kind FROM timers").fetchall())
    assert [row[0] for row in due] == [stream_store.SETTLE_TIMER]  # the durable timer settles it unobserved


def test_a_deleted_stream_disappears_with_its_records_after_deleting(db: SqliteDatabase) -> None:
    clock = ManualClock()
    create(db, clock)
    clock.advance(2)
    stream = db.run_sync(lambda c: stream_store.get(c, KEY, clock.now()))
    db.run_sync(lambda c: records.put(c, stream, [Entry(b"x", "k")], clock.now()))
    db.run_sync(lambda c: stream_store.delete(c, KEY, False, clock.now(), 1.0))
    clock.advance(1)
    assert db.run_sync(lambda c: stream_store.find(c, KEY, clock.now())) is None
    assert db.run_sync(lambda c: c.execute("SELECT COUNT(*) FROM kinesis_records").fetchone()[0]) == 0


def test_iterators_are_self_describing_and_expire_after_300_seconds() -> None:
    token = iterators.encode_iterator(iterators.ShardIterator(7, 3, 42, 1000.0))
    assert iterators.decode_iterator(token, 1300.0) == iterators.ShardIterator(7, 3, 42, 1000.0)
    with pytest.raises(AwsError) as excinfo:
        iterators.decode_iterator(token, 1300.001)
    assert excinfo.value.code == "ExpiredIteratorException"
    mangled = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(AwsError) as excinfo:
        iterators.decode_iterator(mangled, 1000.0)
    assert excinfo.value.code == "InvalidArgumentException"


def test_sequence_numbers_round_trip_and_order_by_shard_then_position() -> None:
    assert names.parse_sequence_number(names.sequence_number(5, 2, 99)) == (5, 2, 99, 100)
    assert int(names.sequence_number(5, 2, 99)) < int(names.sequence_number(5, 2, 100))
    assert int(names.sequence_number(5, 2, 10**9)) < int(names.sequence_number(5, 3, 0))
    assert names.parse_sequence_number("123") is None


@given(st.integers(min_value=1, max_value=64))
def test_even_ranges_partition_the_hash_key_space(count: int) -> None:
    ranges = names.even_ranges(count)
    assert ranges[0][0] == 0 and ranges[-1][1] == names.MAX_HASH_KEY
    assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(count - 1))


def test_partition_hash_is_md5_as_a_128_bit_integer() -> None:
    assert names.partition_hash("abc") == int(hashlib.md5(b"abc").hexdigest(), 16)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=8), st.data())
def test_uniform_scaling_keeps_a_partition_and_at_most_two_parents(start: int, data: st.DataObject) -> None:
    target = data.draw(st.integers(min_value=(start + 1) // 2, max_value=2 * start))
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys=ON")
    for migration in (*timers.MIGRATIONS, *MIGRATIONS):
        for statement in migration.sql.split(";"):
            if statement.strip():
                conn.execute(translate_ddl(statement))
    stream = stream_store.create(conn, KEY, start, "PROVISIONED", {}, 1024, 0.0, 0.0)
    if target != start:
        shards.scale_uniformly(conn, stream, target, 1.0)
    opened = shards.open_shards(conn, stream)
    assert [(s.starting_hash, s.ending_hash) for s in opened] == names.even_ranges(target)
    every = shards.all_shards(conn, stream)
    by_index = {s.index: s for s in every}
    for shard in every:
        for parent in (shard.parent_index, shard.adjacent_parent_index):
            if parent is not None:  # a child's keys come from its parents' keys
                assert by_index[parent].closed_at is not None
                assert by_index[parent].index < shard.index


def test_reading_a_closed_shard_to_its_end_returns_its_children(db: SqliteDatabase) -> None:
    clock = ManualClock()
    create(db, clock)
    clock.advance(2)
    stream = db.run_sync(lambda c: stream_store.get(c, KEY, clock.now()))
    db.run_sync(lambda c: records.put(c, stream, [Entry(b"a", "k"), Entry(b"b", "k")], clock.now()))
    parent = db.run_sync(lambda c: shards.get(c, stream, "shardId-000000000000"))
    db.run_sync(lambda c: shards.split(c, stream, parent, 2**127, clock.now()))
    parent = db.run_sync(lambda c: shards.get(c, stream, "shardId-000000000000"))
    first = db.run_sync(lambda c: records.read(c, stream, parent, 0, 1, clock.now()))
    assert [r["Data"] for r in first.records] == [b"a"] and first.next_position is not None
    last = db.run_sync(lambda c: records.read(c, stream, parent, first.next_position or 0, 10, clock.now()))
    assert [r["Data"] for r in last.records] == [b"b"] and last.next_position is None
    assert [c["ShardId"] for c in last.child_shards or []] == ["shardId-000000000001", "shardId-000000000002"]


def test_millis_behind_latest_measures_the_oldest_unread_record(db: SqliteDatabase) -> None:
    clock = ManualClock()
    create(db, clock)
    clock.advance(2)
    stream = db.run_sync(lambda c: stream_store.get(c, KEY, clock.now()))
    for _ in range(3):
        db.run_sync(lambda c: records.put(c, stream, [Entry(b"x", "k")], clock.now()))
        clock.advance(1)
    shard = db.run_sync(lambda c: shards.get(c, stream, "shardId-000000000000"))
    batch = db.run_sync(lambda c: records.read(c, stream, shard, 0, 1, clock.now()))
    assert batch.millis_behind_latest == 2000
    tail = db.run_sync(lambda c: records.read(c, stream, shard, 0, 10, clock.now()))
    assert tail.millis_behind_latest == 0

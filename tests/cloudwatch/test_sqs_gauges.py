"""SQS's depth gauges (services/sqs/metrics.py `depths`): the same numbers a full count of the messages
gives, after any sequence of operations, and read at a cost that does not grow with a queue's depth
(SQLite's virtual-machine steps, which do not depend on the machine's speed)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventyard.protocol.errors import AwsError
from eventyard.runtime.clock import ManualClock
from eventyard.services.sqs import messages, queues
from eventyard.services.sqs.messages import OutgoingMessage
from eventyard.services.sqs.metrics import ACTIVE_FOR, Depth, depths
from eventyard.services.sqs.names import QueueKey
from eventyard.services.sqs.schema import MIGRATIONS
from eventyard.storage import SqliteDatabase
from eventyard.storage.sqlite import SqliteConnection


class Queues:
    """The SQS tables on a SQLite connection of the test's own, with a manual clock."""

    def __init__(self, path: Path) -> None:
        database = SqliteDatabase(path)
        database.migrate(MIGRATIONS)
        database.close()
        self.raw = sqlite3.connect(path, isolation_level=None)
        self.raw.row_factory = sqlite3.Row
        self.conn: Any = SqliteConnection(self.raw)
        self.clock = ManualClock()

    def create(self, name: str, **attributes: str) -> queues.Queue:
        return queues.create(self.conn, QueueKey("000000000000", "us-east-1", name), attributes, {}, self.clock.now())

    def fill(self, queue: queues.Queue, count: int) -> None:
        batch = [OutgoingMessage(f"m{i}") for i in range(count)]
        for start in range(0, count, 10):
            messages.send_batch(self.conn, queue, batch[start:start + 10], self.clock.now(), "me")

    def gauges(self) -> dict[str, Depth]:
        now = self.clock.now()
        return {name: depth for _, _, name, depth in depths(self.conn, now, now - ACTIVE_FOR, set())}

    def steps(self, action: Any) -> int:
        counted = [0]

        def count() -> int:
            counted[0] += 1
            return 0

        self.raw.set_progress_handler(count, 1)
        try:
            action()
        finally:
            self.raw.set_progress_handler(None, 1)
        return counted[0]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Queues]:
    made = Queues(tmp_path / "sqs.sqlite3")
    yield made
    made.raw.close()


def full_count(conn: Any, queue_id: int, now: float) -> Depth:
    """The reference: every message of the queue looked at."""
    rows = conn.execute("SELECT sent_at, available_at, receive_count FROM sqs_messages WHERE queue_id = ?"
                        " AND expires_at > ?", (queue_id, now)).fetchall()
    kept = [r["sent_at"] for r in rows if r["receive_count"] < 3]
    return Depth(sum(1 for r in rows if r["available_at"] <= now),
                 sum(1 for r in rows if r["available_at"] > now and r["receive_count"] > 0),
                 sum(1 for r in rows if r["available_at"] > now and r["receive_count"] == 0),
                 now - min(kept) if kept else 0.0)


OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("send"), st.integers(0, 3)),  # delay (tens of seconds)
    st.tuples(st.just("receive"), st.integers(1, 10), st.integers(0, 40)),  # how many, visibility
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("wait"), st.floats(0, 90)),
    st.tuples(st.just("sweep")),
), max_size=40)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_gauges_match_a_full_count_after_any_sequence(store: Queues, operations: list[tuple[Any, ...]]) -> None:
    name = f"q{len(store.raw.execute('SELECT * FROM sqs_queues').fetchall())}"
    queue = store.create(name, MessageRetentionPeriod="120")
    handles: list[str] = []
    for operation in operations:
        now = store.clock.now()
        if operation[0] == "send":
            messages.send(store.conn, queue, OutgoingMessage("m", delay_seconds=operation[1] * 10), now, "me")
        elif operation[0] == "receive":
            handles += [m.receipt_handle for m in messages.receive(store.conn, queue, operation[1], operation[2], now)]
        elif operation[0] == "delete" and handles:
            try:
                messages.delete(store.conn, queue, handles[operation[1] % len(handles)], now)
            except AwsError as error:
                assert error.status < 500
        elif operation[0] == "wait":
            store.clock.advance(operation[1])
        elif operation[0] == "sweep":
            messages.sweep_expired(store.conn, now)
        got = store.gauges()[name]
        expected = full_count(store.conn, queue.id, store.clock.now())
        assert (got.visible, got.not_visible, got.delayed) == (expected.visible, expected.not_visible,
                                                               expected.delayed)
        assert got.oldest_age == pytest.approx(expected.oldest_age)


def test_gauges_cost_the_same_at_any_depth(store: Queues) -> None:
    shallow, deep = store.create("shallow"), store.create("deep")
    store.fill(shallow, 200)
    store.fill(deep, 4000)
    for queue in (shallow, deep):
        messages.receive(store.conn, queue, 10, 30, store.clock.now())  # a few in flight
    store.clock.advance(5)
    both = store.steps(store.gauges)
    store.conn.execute("DELETE FROM sqs_messages WHERE queue_id = ?", (deep.id,))
    store.conn.execute("DELETE FROM sqs_queue_counters WHERE queue_id = ?", (deep.id,))
    store.fill(deep, 200)
    messages.receive(store.conn, deep, 10, 30, store.clock.now())
    shallow_both = store.steps(store.gauges)
    assert both < 1.5 * shallow_both + 200, (both, shallow_both)
    gauges = store.gauges()
    assert (gauges["shallow"].visible, gauges["shallow"].not_visible) == (190, 10)
    assert gauges["shallow"].oldest_age == pytest.approx(5.0)


def test_idle_queues_are_published_while_recent_and_empty_ones_stop_after_six_hours(store: Queues) -> None:
    store.create("idle")
    assert store.gauges()["idle"] == Depth()
    store.clock.advance(ACTIVE_FOR + 1)
    assert "idle" not in store.gauges()
    kept = store.create("kept")
    store.fill(kept, 3)
    store.clock.advance(ACTIVE_FOR + 1)
    assert store.gauges()["kept"].visible == 3

"""Queue counters and FIFO group heads (services/sqs/bookkeeping.py): always what a full count would
say, whatever the sequence of sends, receives, visibility changes, deletes, moves and expiries; and
what GetQueueAttributes and a FIFO receive cost does not grow with the queue's depth."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventyard.protocol.errors import AwsError
from eventyard.runtime.clock import ManualClock
from eventyard.services.sqs import bookkeeping, messages, queues
from eventyard.services.sqs.messages import OutgoingMessage
from eventyard.services.sqs.names import QueueKey
from eventyard.services.sqs.schema import MIGRATIONS
from eventyard.storage import SqliteDatabase
from eventyard.storage.sqlite import SqliteConnection


class Store:
    """The SQS tables on one SQLite connection of the test's own (so it can count SQLite's work)."""

    def __init__(self, path: Path) -> None:
        database = SqliteDatabase(path)
        database.migrate(MIGRATIONS)
        database.close()
        self.raw = sqlite3.connect(path, isolation_level=None)
        self.raw.row_factory = sqlite3.Row
        self.conn: Any = SqliteConnection(self.raw)
        self.clock = ManualClock()

    def queue(self, name: str, **attributes: str) -> queues.Queue:
        return queues.create(self.conn, QueueKey("000000000000", "us-east-1", name), attributes, {}, self.clock.now())

    def steps(self, action: Any) -> int:
        """SQLite virtual-machine steps `action` takes: the work it does, independent of machine speed."""
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
def store(tmp_path: Path) -> Iterator[Store]:
    made = Store(tmp_path / "sqs.sqlite3")
    yield made
    made.raw.close()


def full_counts(conn: Any, queue_id: int, now: float) -> dict[str, int]:
    """The reference: every message of the queue looked at."""
    row = conn.execute(
        "SELECT SUM(CASE WHEN available_at <= ? THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN available_at > ? AND receive_count > 0 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN available_at > ? AND receive_count = 0 THEN 1 ELSE 0 END)"
        " FROM sqs_messages WHERE queue_id = ? AND expires_at > ?", (now, now, now, queue_id, now)).fetchone()
    return {"ApproximateNumberOfMessages": row[0] or 0, "ApproximateNumberOfMessagesNotVisible": row[1] or 0,
            "ApproximateNumberOfMessagesDelayed": row[2] or 0}


def heads_are_oldest_of_groups(conn: Any, queue_id: int) -> bool:
    flagged = {r[0] for r in conn.execute("SELECT seq FROM sqs_messages WHERE queue_id = ? AND is_head = 1",
                                          (queue_id,))}
    oldest = {r[0] for r in conn.execute("SELECT MIN(seq) FROM sqs_messages WHERE queue_id = ? GROUP BY group_id",
                                         (queue_id,))}
    return flagged == oldest


OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("send"), st.integers(0, 4), st.integers(0, 3)),  # group, delay
    st.tuples(st.just("receive"), st.integers(1, 10), st.integers(0, 40)),  # how many, visibility
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("hide"), st.integers(0, 20), st.integers(0, 40)),  # change visibility
    st.tuples(st.just("wait"), st.floats(0, 90)),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("purge")),
), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS, fifo=st.booleans())
def test_counts_and_heads_match_a_full_count_after_any_sequence(store: Store, operations: list[tuple[Any, ...]],
                                                               fifo: bool) -> None:
    dead = store.queue(f"dead-{len(store.raw.execute('SELECT * FROM sqs_queues').fetchall())}" + (".fifo" if fifo else ""),
                       **({"FifoQueue": "true"} if fifo else {}))
    attributes = {"MessageRetentionPeriod": "120",
                  "RedrivePolicy": f'{{"deadLetterTargetArn": "{dead.arn}", "maxReceiveCount": 2}}'}
    if fifo:
        attributes.update(FifoQueue="true", ContentBasedDeduplication="true")
    queue = store.queue(dead.key.name.replace("dead-", "live-"), **attributes)
    handles: list[str] = []
    sent = 0
    for operation in operations:
        now = store.clock.now()
        kind = operation[0]
        if kind == "send":
            sent += 1
            outgoing = OutgoingMessage(f"m{sent}", group_id=f"g{operation[1]}" if fifo else None,
                                       delay_seconds=None if fifo else operation[2] * 10)
            messages.send(store.conn, queue, outgoing, now, "me")
        elif kind == "receive":
            handles += [m.receipt_handle for m in messages.receive(store.conn, queue, operation[1], operation[2], now)]
        elif kind in ("delete", "hide") and handles:
            handle = handles[operation[1] % len(handles)]
            try:
                if kind == "delete":
                    messages.delete(store.conn, queue, handle, now)
                else:
                    messages.change_visibility(store.conn, queue, handle, operation[2], now)
            except AwsError as error:  # refused as AWS refuses it (expired handle, not in flight)
                assert error.status < 500
        elif kind == "wait":
            store.clock.advance(operation[1])
        elif kind == "sweep":
            messages.sweep_expired(store.conn, now)
        elif kind == "purge":
            try:
                queues.purge(store.conn, queues.get(store.conn, queue.key), now)
            except AwsError as error:  # one purge a minute
                assert error.code == "PurgeQueueInProgress"
        now = store.clock.now()
        for checked in (queue, dead):
            assert bookkeeping.counts(store.conn, checked.id, now) == full_counts(store.conn, checked.id, now)
            assert not checked.fifo or heads_are_oldest_of_groups(store.conn, checked.id)


def fill(store: Store, queue: queues.Queue, count: int, groups: int = 100) -> None:
    now = store.clock.now()
    batch = [OutgoingMessage(f"m{i}", group_id=f"g{i % groups}" if queue.fifo else None,
                             dedup_id=str(i) if queue.fifo else None) for i in range(count)]
    for start in range(0, count, 10):
        messages.send_batch(store.conn, queue, batch[start:start + 10], now, "me")


@pytest.mark.parametrize("fifo", [False, True])
def test_queue_attributes_cost_the_same_at_any_depth(store: Store, fifo: bool) -> None:
    suffix, attributes = (".fifo", {"FifoQueue": "true"}) if fifo else ("", {})
    shallow, deep = store.queue("shallow" + suffix, **attributes), store.queue("deep" + suffix, **attributes)
    fill(store, shallow, 200)
    fill(store, deep, 4000)
    for queue in (shallow, deep):
        messages.receive(store.conn, queue, 10, 30, store.clock.now())  # a few in flight
    now = store.clock.now()
    cost = {q.key.name: store.steps(lambda q=q: queues.attributes_view(store.conn, q, ["All"], now))
            for q in (shallow, deep)}
    assert cost["deep" + suffix] < 1.5 * cost["shallow" + suffix] + 200, cost
    assert queues.attributes_view(store.conn, deep, ["All"], now)["ApproximateNumberOfMessages"] == "3990"


def test_a_fifo_receive_costs_the_same_at_any_depth(store: Store) -> None:
    shallow = store.queue("shallow.fifo", FifoQueue="true")
    deep = store.queue("deep.fifo", FifoQueue="true")
    fill(store, shallow, 400)
    fill(store, deep, 8000)
    costs: dict[str, list[int]] = {"shallow.fifo": [], "deep.fifo": []}
    for _ in range(5):
        for queue in (shallow, deep):
            got: list[messages.ReceivedMessage] = []
            costs[queue.key.name].append(store.steps(lambda q=queue: got.extend(
                messages.receive(store.conn, q, 10, 30, store.clock.now()))))
            assert len(got) == 10 and len({m.system["MessageGroupId"] for m in got}) >= 1
            for message in got:
                messages.delete(store.conn, queue, message.receipt_handle, store.clock.now())
    assert max(costs["deep.fifo"]) < 1.5 * max(costs["shallow.fifo"]) + 500, costs


def test_a_process_threads_count_on_shards_of_their_own() -> None:
    """Two threads on one counter row wait for each other's commit on PostgreSQL: each thread takes its
    own shard (drawn at random, 8 writer threads shared a row in most processes)."""
    taken: list[int] = []
    threads = [threading.Thread(target=lambda: taken.append(bookkeeping._shard())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(taken)) == 8 and all(0 <= s < bookkeeping.COUNTER_SHARDS for s in taken)

"""What SQS keeps beside its messages so that reads do not scan whole queues.

- **Counters.** Each queue's number of stored messages, changed in the same transaction as every
  insert and delete. GetQueueAttributes then counts only small indexed ranges: the messages that are
  hidden (in flight or delayed: `available_at > now`) and those expired but not yet swept;
  everything else is visible. A counter is split into a few shards, so concurrent writers on
  PostgreSQL rarely update the same row. Each thread keeps one shard: a transaction (which may group
  many requests) then holds one counter row per queue, so two transactions never lock a queue's
  rows in opposite orders (a deadlock).
- **FIFO group heads.** The oldest stored message of each message group carries `is_head = 1`. A
  FIFO receive reads the heads that are visible, oldest first (a partial index holds only heads),
  so its cost follows the number of groups in flight, never the queue's depth. Deleting a head
  (delete, dead-letter move, purge, expiry) makes the group's next message its head.

Every statement that inserts or deletes messages goes through `added` / `forget`.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from eventyard.storage import Connection

COUNTER_SHARDS = 64
_thread = threading.local()
_next_shard: dict[int, Iterator[int]] = {}  # by process: forked workers each draw their own start


def _shard() -> int:
    """The thread's shard: a process's threads take consecutive shards from a random start, so no two
    of them share a row (they waited for each other's commits when drawn at random), and two
    processes' threads rarely do."""
    shard: int | None = getattr(_thread, "shard", None)
    if shard is None:  # `random` is reseeded in forked workers
        shards = _next_shard.setdefault(os.getpid(), itertools.count(random.randrange(COUNTER_SHARDS)))
        shard = _thread.shard = next(shards) % COUNTER_SHARDS
    return shard


def added(conn: Connection, queue_id: int, count: int = 1) -> None:
    """`count` messages were stored in the queue."""
    if count:
        conn.execute(
            "INSERT INTO sqs_queue_counters (queue_id, shard, messages) VALUES (?, ?, ?)"
            " ON CONFLICT (queue_id, shard) DO UPDATE SET messages = sqs_queue_counters.messages + excluded.messages",
            (queue_id, _shard(), count),
        )


def is_first_of_group(conn: Connection, queue_id: int, group_id: str | None) -> bool:
    """Whether a message about to be stored in a FIFO queue's group becomes the group's head."""
    if group_id is None:
        return False
    return conn.execute("SELECT 1 FROM sqs_messages WHERE queue_id = ? AND group_id = ? LIMIT 1",
                        (queue_id, group_id)).fetchone() is None


# Deleting statements end with this, and hand the rows they deleted to `forget`.
DELETED = " RETURNING queue_id, group_id, is_head"


def forget(conn: Connection, deleted: Iterable[Any]) -> int:
    """Account for deleted messages (rows of `... RETURNING queue_id, group_id, is_head`): lower each
    queue's counter, and give every group that lost its head the next message as head."""
    per_queue: Counter[int] = Counter()
    headless: set[tuple[int, str]] = set()
    for row in deleted:
        per_queue[row[0]] += 1
        if row[2]:
            headless.add((row[0], row[1]))
    for queue_id, count in per_queue.items():
        added(conn, queue_id, -count)
    for queue_id, group_id in headless:
        conn.execute(
            "UPDATE sqs_messages SET is_head = 1 WHERE seq = (SELECT MIN(seq) FROM sqs_messages"
            " WHERE queue_id = ? AND group_id = ?)",
            (queue_id, group_id),
        )
    return sum(per_queue.values())


def delete_where(conn: Connection, condition: str, parameters: tuple[Any, ...]) -> int:
    """Delete the messages matching `condition` (SQL after WHERE), keeping counters and heads right."""
    rows = conn.execute(f"DELETE FROM sqs_messages WHERE {condition}{DELETED}", parameters).fetchall()
    return forget(conn, rows)


def counts(conn: Connection, queue_id: int, now: float) -> dict[str, int]:
    """ApproximateNumberOfMessages, -NotVisible and -Delayed from the counter and two small ranges."""
    stored = conn.execute("SELECT COALESCE(SUM(messages), 0) FROM sqs_queue_counters WHERE queue_id = ?",
                          (queue_id,)).fetchone()[0]
    expired = conn.execute("SELECT COUNT(*) FROM sqs_messages WHERE queue_id = ? AND expires_at <= ?",
                           (queue_id, now)).fetchone()[0]
    in_flight, hidden = conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN receive_count > 0 THEN 1 ELSE 0 END), 0), COUNT(*) FROM sqs_messages"
        " WHERE queue_id = ? AND available_at > ? AND expires_at > ?",
        (queue_id, now, now),
    ).fetchone()
    return {
        "ApproximateNumberOfMessages": max(0, int(stored) - int(expired) - int(hidden)),
        "ApproximateNumberOfMessagesNotVisible": int(in_flight),
        "ApproximateNumberOfMessagesDelayed": int(hidden) - int(in_flight),
    }


def visible_heads(conn: Connection, queue_id: int, limit: int, now: float, lock: str) -> list[Any]:
    """The FIFO queue's group heads a receive may take, in turn order. `lock` is the backend's row-lock
    clause (`FOR UPDATE SKIP LOCKED` on PostgreSQL: a head another receive is claiming is passed by,
    and with it its whole group)."""
    return conn.execute(
        f"SELECT * FROM sqs_messages WHERE queue_id = ? AND is_head = 1 AND {TURN} <= ? AND available_at <= ?"
        f" AND expires_at > ? ORDER BY {TURN}, seq LIMIT ?{lock}",
        (queue_id, now, now, now, limit),
    ).fetchall()


# Groups take turns by when they last became available: a group whose head came back from a
# visibility timeout queues up behind groups that were waiting (recorded against AWS). The heads'
# index is on this expression, so in-flight groups (whose turn is still to come) are never read.
TURN = "(CASE WHEN receive_count > 0 THEN available_at ELSE sent_at END)"

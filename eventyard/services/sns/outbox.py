"""The outbox: stored messages and their pending deliveries, one durable timer per delivery.

Deliveries of one FIFO message group to one subscription form a chain: only the oldest has a
timer; finishing it schedules the next, so the group reaches the subscriber in publish order
(retries of the head hold the rest back, as SNS FIFO does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.runtime import timers
from eventyard.storage import Connection

TIMER_KIND = "sns-delivery"


@dataclass(frozen=True)
class Delivery:
    id: int
    message_id: str
    subscription_arn: str
    fifo_group: str | None
    attempts: int


@dataclass(frozen=True)
class Claimed:
    """A delivery whose timer this process claimed in the publish transaction, to fire right after COMMIT."""

    timer: timers.Timer
    delivery_id: int
    subscription_arn: str
    document: dict[str, Any]


def enqueue(conn: Connection, document: dict[str, Any], subscription_arns: list[str],
            fifo_group: str | None, now: float, claimed: list[Claimed] | None = None) -> None:
    """Store the message and its deliveries. With `claimed`, each delivery's timer is written already
    claimed and listed there for the caller to fire once committed (no wait for the timer loop); the
    timer stays the durable record, so a crash before delivery still fires it after restart."""
    if not subscription_arns:
        return  # nobody listens: nothing to keep
    conn.execute("INSERT INTO sns_messages (id, topic_arn, document, created_at) VALUES (?, ?, ?, ?)",
                 (document["MessageId"], document["TopicArn"], json.dumps(document), now))
    for arn in subscription_arns:
        waiting = fifo_group is not None and conn.execute(
            "SELECT 1 FROM sns_deliveries WHERE subscription_arn = ? AND fifo_group = ? LIMIT 1", (arn, fifo_group)
        ).fetchone() is not None
        delivery_id = int(conn.execute(
            "INSERT INTO sns_deliveries (message_id, subscription_arn, fifo_group, scheduled, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id", (document["MessageId"], arn, fifo_group, int(not waiting), now)
        ).fetchone()[0])
        if waiting:
            continue
        if claimed is None:
            timers.schedule(conn, TIMER_KIND, {"delivery": delivery_id}, now, now)
        else:
            claimed.append(Claimed(timers.schedule_claimed(conn, TIMER_KIND, {"delivery": delivery_id}, now),
                                   delivery_id, arn, document))


def load(conn: Connection, delivery_id: int) -> tuple[Delivery, dict[str, Any]] | None:
    row = conn.execute(
        "SELECT d.*, m.document FROM sns_deliveries d JOIN sns_messages m ON m.id = d.message_id WHERE d.id = ?",
        (delivery_id,),
    ).fetchone()
    if row is None:
        return None
    return (Delivery(row["id"], row["message_id"], row["subscription_arn"], row["fifo_group"], row["attempts"]),
            json.loads(row["document"]))


def record_attempt(conn: Connection, delivery_id: int) -> None:
    conn.execute("UPDATE sns_deliveries SET attempts = attempts + 1 WHERE id = ?", (delivery_id,))


def complete(conn: Connection, delivery_id: int, now: float, timer_id: int | None = None) -> bool:
    """Forget a finished (delivered, dead-lettered or dropped) delivery, and its timer when given (one
    transaction, so neither outlives the other); True if a timer was scheduled for the next in a FIFO chain."""
    if timer_id is not None:
        timers.cancel(conn, timer_id)
    row = conn.execute("SELECT * FROM sns_deliveries WHERE id = ?", (delivery_id,)).fetchone()
    if row is None:
        return False
    conn.execute("DELETE FROM sns_deliveries WHERE id = ?", (delivery_id,))
    scheduled = False
    if row["fifo_group"] is not None:
        following = conn.execute(
            "SELECT id FROM sns_deliveries WHERE subscription_arn = ? AND fifo_group = ? ORDER BY id LIMIT 1",
            (row["subscription_arn"], row["fifo_group"]),
        ).fetchone()
        if following is not None:
            conn.execute("UPDATE sns_deliveries SET scheduled = 1 WHERE id = ?", (following[0],))
            timers.schedule(conn, TIMER_KIND, {"delivery": following[0]}, now, now)
            scheduled = True
    if conn.execute("SELECT 1 FROM sns_deliveries WHERE message_id = ? LIMIT 1", (row["message_id"],)).fetchone() is None:
        conn.execute("DELETE FROM sns_messages WHERE id = ?", (row["message_id"],))
    return scheduled


def capture(conn: Connection, record: dict[str, Any], now: float) -> None:
    """Keep an email/SMS/mobile/Firehose delivery for GET /_eventyard/sns/deliveries."""
    conn.execute("INSERT INTO sns_captured (record, created_at) VALUES (?, ?)", (json.dumps(record), now))


def captured(conn: Connection, filters: dict[str, str]) -> list[dict[str, Any]]:
    records = [json.loads(r[0]) for r in conn.execute("SELECT record FROM sns_captured ORDER BY id")]
    return [r for r in records if all(str(r.get(k)) == v for k, v in filters.items())]


def backlog(conn: Connection, topic_arn: str, limit: int) -> list[dict[str, Any]]:
    """The topic's deliveries not yet made, oldest first, with how often each was tried (for the
    console: a delivery with attempts is one that failed and is being retried)."""
    rows = conn.execute(
        "SELECT d.message_id, d.subscription_arn, d.attempts, d.created_at, s.protocol, s.endpoint"
        " FROM sns_deliveries d JOIN sns_subscriptions s ON s.arn = d.subscription_arn"
        " WHERE s.topic_arn = ? ORDER BY d.id LIMIT ?",
        (topic_arn, limit),
    ).fetchall()
    return [{"MessageId": r["message_id"], "SubscriptionArn": r["subscription_arn"], "Attempts": r["attempts"],
             "CreatedAt": r["created_at"], "Protocol": r["protocol"], "Endpoint": r["endpoint"]} for r in rows]

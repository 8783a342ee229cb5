"""Looking at queues without touching them, for the console: SQS's API has no way to read a
message without receiving it (which raises its receive count and hides it), nor to list every
queue with its redrive target in one call.

Reads only: nothing here changes a message's visibility, receive count or receipt handle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.services.sqs.names import QueueKey
from eventyard.services.sqs.queues import Queue
from eventyard.storage import Connection

MAX_PEEK = 100


@dataclass(frozen=True)
class QueueSummary:
    key: QueueKey
    fifo: bool
    dead_letter_target_arn: str | None  # where its RedrivePolicy sends messages, if it has one
    max_receive_count: int | None


def summaries(conn: Connection, account_id: str, region: str | None) -> list[QueueSummary]:
    """Every queue of the account (in one region, or all), by region and name."""
    sql = "SELECT region, name, fifo, attributes FROM sqs_queues WHERE account_id = ?"
    args: list[Any] = [account_id]
    if region is not None:
        sql += " AND region = ?"
        args.append(region)
    rows = conn.execute(sql + " ORDER BY region, name", tuple(args)).fetchall()
    found = []
    for row in rows:
        policy = json.loads(json.loads(row["attributes"]).get("RedrivePolicy") or "null") or {}
        receive_count = policy.get("maxReceiveCount")
        found.append(QueueSummary(QueueKey(account_id, row["region"], row["name"]), bool(row["fifo"]),
                                  policy.get("deadLetterTargetArn"),
                                  int(receive_count) if receive_count is not None else None))
    return found


def peek(conn: Connection, queue: Queue, limit: int, now: float) -> list[dict[str, Any]]:
    """The queue's oldest unexpired messages, in the order they were stored, with their state."""
    rows = conn.execute(
        "SELECT message_id, body, attributes, system_attributes, sent_at, available_at, receive_count,"
        " first_received_at, group_id, sequence_number, sender_id, dead_letter_source_arn"
        " FROM sqs_messages WHERE queue_id = ? AND expires_at > ? ORDER BY seq LIMIT ?",
        (queue.id, now, max(1, min(limit, MAX_PEEK))),
    ).fetchall()
    return [_peeked(row, now) for row in rows]


def _peeked(row: Any, now: float) -> dict[str, Any]:
    if row["available_at"] <= now:
        state = "visible"
    elif row["receive_count"] > 0:
        state = "in flight"
    else:
        state = "delayed"
    return {
        "MessageId": row["message_id"],
        "Body": row["body"],
        "MessageAttributes": json.loads(row["attributes"]) if row["attributes"] else {},
        "SentTimestamp": row["sent_at"],
        "ApproximateReceiveCount": row["receive_count"],
        "ApproximateFirstReceiveTimestamp": row["first_received_at"],
        "MessageGroupId": row["group_id"],
        "SequenceNumber": row["sequence_number"],
        "SenderId": row["sender_id"],
        "DeadLetterQueueSourceArn": row["dead_letter_source_arn"],
        "State": state,
        "VisibleAt": row["available_at"],
    }

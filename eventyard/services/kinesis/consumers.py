"""Enhanced fan-out consumers: registration, lookup by ARN or name, and their status transitions.

Like streams, a consumer's CREATING/DELETING status ends at a clock time (`status_due`), settled by
whoever looks first or by a durable timer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.services.kinesis import names
from eventyard.services.kinesis import streams as stream_store
from eventyard.services.kinesis.streams import Stream, StreamKey
from eventyard.storage import Connection, Row

MAX_CONSUMERS_PER_STREAM = 20


@dataclass(frozen=True)
class Consumer:
    id: int
    stream_id: int
    name: str
    arn: str
    status: str
    tags: dict[str, str]
    created_at: float

    @classmethod
    def from_row(cls, row: Row) -> Consumer:
        return cls(row["id"], row["stream_id"], row["name"], row["arn"], row["status"], json.loads(row["tags"]),
                   row["created_at"])

    def view(self) -> dict[str, Any]:
        return {"ConsumerName": self.name, "ConsumerARN": self.arn, "ConsumerStatus": self.status,
                "ConsumerCreationTimestamp": self.created_at}

    def order_key(self) -> tuple[float, int]:
        """Where the consumer sorts in ListStreamConsumers (`list_for`'s order)."""
        return self.created_at, self.id


def settle(conn: Connection, row: Row, now: float) -> Consumer | None:
    due = row["status_due"]
    if due is not None and now >= due:
        if row["status"] == "DELETING":
            conn.execute("DELETE FROM kinesis_consumers WHERE id = ?", (row["id"],))
            return None
        conn.execute("UPDATE kinesis_consumers SET status = 'ACTIVE', status_due = NULL WHERE id = ?", (row["id"],))
        row = conn.execute("SELECT * FROM kinesis_consumers WHERE id = ?", (row["id"],)).fetchone()
    return Consumer.from_row(row)


def settle_by_id(conn: Connection, consumer_id: int, now: float) -> None:
    row = conn.execute("SELECT * FROM kinesis_consumers WHERE id = ?", (consumer_id,)).fetchone()
    if row is not None:
        settle(conn, row, now)


def _not_found(description: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Consumer {description} not found.")


def register(conn: Connection, stream: Stream, name: str, tags: dict[str, str], now: float,
             delay: float) -> Consumer:
    if stream.status not in ("ACTIVE", "UPDATING"):
        raise AwsError("ResourceInUseException", f"Stream {stream.name} under account {stream.account_id} not "
                       f"ACTIVE, instead in state {stream.status}")
    existing = [c for c in list_for(conn, stream, now)]
    if any(c.name == name for c in existing):
        raise AwsError("ResourceInUseException", f"Consumer {name} under stream {stream.name} already exists for "
                       f"account {stream.account_id}.")
    if len(existing) >= MAX_CONSUMERS_PER_STREAM:
        raise AwsError("LimitExceededException", f"Consumer limit of {MAX_CONSUMERS_PER_STREAM} exceeded for "
                       f"stream {stream.name} under account {stream.account_id}.")
    arn = names.consumer_arn(stream.arn, name, now)
    consumer_id = int(conn.execute(
        "INSERT INTO kinesis_consumers (stream_id, name, arn, status, status_due, tags, created_at)"
        " VALUES (?, ?, ?, 'CREATING', ?, ?, ?) RETURNING id",
        (stream.id, name, arn, now + delay, json.dumps(tags), now)).fetchone()[0])
    timers.schedule(conn, stream_store.SETTLE_TIMER, {"consumer_id": consumer_id}, now + delay, now)
    return Consumer.from_row(conn.execute("SELECT * FROM kinesis_consumers WHERE id = ?", (consumer_id,)).fetchone())


def list_for(conn: Connection, stream: Stream, now: float) -> list[Consumer]:
    rows = conn.execute("SELECT * FROM kinesis_consumers WHERE stream_id = ? ORDER BY created_at, id",
                        (stream.id,)).fetchall()
    return [c for c in (settle(conn, row, now) for row in rows) if c is not None]


def locate(conn: Connection, params: dict[str, Any], region: str, account_id: str,
           now: float) -> tuple[Stream, Consumer]:
    """A consumer by ConsumerARN, or by StreamARN and ConsumerName, as Describe/Deregister accept."""
    arn = params.get("ConsumerARN")
    if arn is not None:
        arn_region, arn_account, stream_name, _ = names.parse_consumer_arn(arn)
        stream = stream_store.find(conn, StreamKey(arn_account, arn_region, stream_name), now)
        row = conn.execute("SELECT * FROM kinesis_consumers WHERE arn = ?", (arn,)).fetchone()
        consumer = None if row is None or stream is None else settle(conn, row, now)
        if consumer is None or stream is None:
            raise _not_found(arn)
        return stream, consumer
    stream_arn, name = params.get("StreamARN"), params.get("ConsumerName")
    if stream_arn is None or name is None:
        raise AwsError("InvalidArgumentException", "Either ConsumerARN or both StreamARN and ConsumerName must be "
                       "provided.")
    key = stream_store.key_from_params({"StreamARN": stream_arn}, region, account_id)
    stream = stream_store.get(conn, key, now)
    row = conn.execute("SELECT * FROM kinesis_consumers WHERE stream_id = ? AND name = ?", (stream.id, name)).fetchone()
    consumer = None if row is None else settle(conn, row, now)
    if consumer is None:
        raise _not_found(f"{name} under stream {stream.name} for account {stream.account_id}")
    return stream, consumer


def deregister(conn: Connection, consumer: Consumer, now: float, delay: float) -> None:
    if consumer.status == "DELETING":
        return
    conn.execute("UPDATE kinesis_consumers SET status = 'DELETING', status_due = ? WHERE id = ?",
                 (now + delay, consumer.id))
    timers.schedule(conn, stream_store.SETTLE_TIMER, {"consumer_id": consumer.id}, now + delay, now)


def set_tags(conn: Connection, consumer: Consumer, tags: dict[str, str]) -> None:
    conn.execute("UPDATE kinesis_consumers SET tags = ? WHERE id = ?", (json.dumps(tags), consumer.id))

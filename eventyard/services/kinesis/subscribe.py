"""SubscribeToShard's push loop: records are sent as event-stream messages as soon as they are put.

The loop wakes when a PutRecord(s) on the stream commits (or every POLL_RECHECK, to notice time moved
by tests and work done by other nodes), sends an event whenever records arrived or a heartbeat is
due, and ends after five minutes of (clock) time or at the end of a closed shard, as AWS does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from botocore.model import Shape

from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import write_json
from eventyard.services.kinesis import eventstream, names, records, shards
from eventyard.services.kinesis.records import Batch
from eventyard.services.kinesis.streams import Stream
from eventyard.storage import Connection

SUBSCRIPTION_LIFETIME = 300.0
HEARTBEAT = 5.0
POLL_RECHECK = 0.5
EVENT_RECORD_LIMIT = 10000

Reader = Callable[[Callable[[Connection], Any]], Awaitable[Any]]
Waiter = Callable[[int, float], Awaitable[None]]


def _read_batch(conn: Connection, stream_id: int, shard_index: int, position: int,
                now: float) -> tuple[Stream, Batch] | AwsError:
    row = conn.execute("SELECT * FROM kinesis_streams WHERE id = ?", (stream_id,)).fetchone()
    stream = None if row is None else Stream.from_row(row)
    if stream is None or stream.status in ("DELETING",):
        return AwsError("ResourceNotFoundException", "Stream was deleted while the subscription was open.")
    shard_row = conn.execute("SELECT * FROM kinesis_shards WHERE stream_id = ? AND shard_index = ?",
                             (stream_id, shard_index)).fetchone()
    shard = shards.Shard.from_row(shard_row)
    return stream, records.read(conn, stream, shard, position, EVENT_RECORD_LIMIT, now)


async def events(read: Reader, wait: Waiter, clock: Any, event_shape: Shape, stream_id: int, shard_index: int,
                 position: int, on_event: Callable[[Batch], None] | None = None) -> AsyncIterator[bytes]:
    """The subscription's event stream; `on_event` hears of each SubscribeToShardEvent sent (metrics)."""
    started = clock.now()
    yield eventstream.event("initial-response", {})
    last_sent: float | None = None
    while clock.now() - started < SUBSCRIPTION_LIFETIME:
        now = clock.now()
        outcome = await read(lambda conn: _read_batch(conn, stream_id, shard_index, position, now))
        if isinstance(outcome, AwsError):
            yield eventstream.exception(outcome.code, outcome.message)
            return
        stream, batch = outcome
        finished = batch.next_position is None
        if batch.records or finished or last_sent is None or now - last_sent >= HEARTBEAT:
            document: dict[str, Any] = {"Records": batch.records, "MillisBehindLatest": batch.millis_behind_latest}
            if batch.records:
                position = batch.next_position if batch.next_position is not None else position
            if finished:
                document["ChildShards"] = batch.child_shards or []
            else:  # the gap before the next record: AT or AFTER it resumes there; null once a closed shard is done
                document["ContinuationSequenceNumber"] = names.gap_number(stream.id, shard_index, position)
            yield eventstream.event("SubscribeToShardEvent", write_json(event_shape, document))
            if on_event is not None:
                on_event(batch)
            last_sent = now
            if finished:
                return
        if not batch.records:
            await wait(stream_id, POLL_RECHECK)
        else:
            await asyncio.sleep(0)

"""Records: PutRecord(s) into shards by 128-bit hash key, and reads by shard iterator.

A record's position in its shard is a per-shard counter taken in the writing transaction, so
sequence numbers increase per shard in commit order and a committed record is never renumbered.
Expired records (past the stream's retention) are invisible at once and deleted by a sweep.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.kinesis import names, shards
from eventyard.services.kinesis.iterators import ShardIterator, encode_iterator
from eventyard.services.kinesis.shards import Shard
from eventyard.services.kinesis.streams import Stream
from eventyard.services.kinesis.throughput import ShardThroughput
from eventyard.storage import Connection

MAX_RECORDS_PER_REQUEST = 500
MAX_REQUEST_BYTES = 5 * 1024 * 1024
MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024  # one GetRecords call returns at most 10 MiB


@dataclass(frozen=True)
class Entry:
    data: bytes
    partition_key: str
    explicit_hash_key: str | None = None


def record_size_error(stream: Stream, size: int, path: str) -> AwsError:
    limit = stream.max_record_size_kib * 1024
    return AwsError("ValidationException", f"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 "
                    f"lim={size} cap={size}]' at '{path}' failed to satisfy constraint: Member must have length less "
                    f"than or equal to {limit}")


def check_entries(stream: Stream, entries: list[Entry], batch: bool) -> None:
    """AWS's size limits: each record (data + partition key) within the stream's maximum record
    size, and a PutRecords request within 5 MiB (or one maximum record, if that is larger)."""
    limit = stream.max_record_size_kib * 1024
    total = 0
    for n, entry in enumerate(entries, start=1):
        size = len(entry.data) + len(entry.partition_key.encode("utf-8"))
        if len(entry.data) > limit or size > limit:
            raise record_size_error(stream, len(entry.data), f"records.{n}.member.data" if batch else "data")
        total += size
    if batch and total > max(MAX_REQUEST_BYTES, limit):
        raise AwsError("InvalidArgumentException", "Records size exceeds 5 MB limit")


def hash_key(entry: Entry) -> int:
    if entry.explicit_hash_key is None:
        return names.partition_hash(entry.partition_key)
    value = int(entry.explicit_hash_key)
    if value > names.MAX_HASH_KEY:
        raise AwsError("InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                       f"[0, 2^128-1]. Specified value was {entry.explicit_hash_key}")
    return value


def put(conn: Connection, stream: Stream, entries: list[Entry], now: float,
        throughput: ShardThroughput | None = None) -> list[dict[str, Any]]:
    """Append each entry to the open shard whose range holds its hash key; one result per entry
    (an error entry for a record past its shard's write limits, when they are enforced)."""
    keys = [hash_key(entry) for entry in entries]
    arrival = math.floor(now * 1000) / 1000  # AWS reports arrival to the millisecond; keep what we report
    targets = shards.open_shards(conn, stream)
    starts = [shard.starting_hash for shard in targets]
    positions = {shard.id: shard.next_position for shard in targets}
    rows = []
    results = []
    for entry, key in zip(entries, keys, strict=True):
        shard = targets[bisect.bisect_right(starts, key) - 1]
        size = len(entry.data) + len(entry.partition_key.encode("utf-8"))
        if throughput is not None and stream.mode == "PROVISIONED" and not throughput.admit(conn, shard.id, size, now):
            results.append({"ErrorCode": "ProvisionedThroughputExceededException",
                            "ErrorMessage": f"Rate exceeded for shard {shard.shard_id} in stream {stream.name} "
                                            f"under account {stream.account_id}."})
            continue
        position = positions[shard.id]
        positions[shard.id] = position + 1
        rows.append((shard.id, position, entry.partition_key, entry.data, arrival))
        results.append({"SequenceNumber": names.sequence_number(stream.id, shard.index, position),
                        "ShardId": shard.shard_id})
    conn.executemany("INSERT INTO kinesis_records (shard_id, position, partition_key, data, arrival)"
                     " VALUES (?, ?, ?, ?, ?)", rows)
    before = {shard.id: shard.next_position for shard in targets}
    conn.executemany("UPDATE kinesis_shards SET next_position = ? WHERE id = ?",
                     [(position, shard_id) for shard_id, position in positions.items() if position != before[shard_id]])
    return results


# -- iterators -----------------------------------------------------------------------------------
def iterator_position(conn: Connection, stream: Stream, shard: Shard, kind: str,
                      sequence: str | None, timestamp: float | None) -> int:
    if kind == "TRIM_HORIZON":
        return 0  # expired records below the horizon are skipped by the read itself
    if kind == "LATEST":
        return shard.next_position
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        if sequence is None:
            raise AwsError("InvalidArgumentException", f"StartingSequenceNumber must be specified for "
                           f"ShardIteratorType {kind}.")
        parsed = names.parse_sequence_number(sequence)
        if parsed is None or parsed.stream_id != stream.id:
            raise AwsError("InvalidArgumentException", f"StartingSequenceNumber {sequence} used in GetShardIterator "
                           f"on shard {shard.shard_id} in stream {stream.name} under account {stream.account_id} "
                           "is invalid.")
        if parsed.shard_index != shard.index:
            raise AwsError("InvalidArgumentException", f"Invalid StartingSequenceNumber. It encodes "
                           f"{names.shard_id(parsed.shard_index)}, while it was used in a call to a shard with "
                           f"{shard.shard_id}")
        return parsed.after if kind == "AFTER_SEQUENCE_NUMBER" else parsed.at
    if kind == "AT_TIMESTAMP":
        if timestamp is None:
            raise AwsError("InvalidArgumentException", "Must specify timestampInMillis parameter for iterator of "
                           "type AT_TIMESTAMP. Current request has no timestamp parameter.")
        row = conn.execute("SELECT MIN(position) FROM kinesis_records WHERE shard_id = ? AND arrival >= ?",
                           (shard.id, timestamp)).fetchone()
        return shard.next_position if row[0] is None else int(row[0])
    raise AwsError("InvalidArgumentException", f"Unsupported ShardIteratorType {kind}.")


def shard_iterator(conn: Connection, stream: Stream, shard_id: str, kind: str, sequence: str | None,
                   timestamp: float | None, now: float) -> str:
    shard = shards.get(conn, stream, shard_id)
    position = iterator_position(conn, stream, shard, kind, sequence, timestamp)
    return encode_iterator(ShardIterator(stream.id, shard.index, position, now))


# -- reads ---------------------------------------------------------------------------------------
@dataclass
class Batch:
    records: list[dict[str, Any]]
    next_position: int | None  # None: the shard is closed and read to its end
    millis_behind_latest: int
    child_shards: list[dict[str, Any]] | None


def read(conn: Connection, stream: Stream, shard: Shard, position: int, limit: int, now: float) -> Batch:
    rows = conn.execute(
        "SELECT position, partition_key, data, arrival FROM kinesis_records WHERE shard_id = ? AND position >= ?"
        " AND arrival >= ? ORDER BY position LIMIT ?",
        (shard.id, position, stream.trim_horizon(now), limit + 1)).fetchall()
    records: list[dict[str, Any]] = []
    size = 0
    for row in rows[:limit]:
        size += len(row["data"]) + len(row["partition_key"])
        if records and size > MAX_GET_RECORDS_BYTES:
            break
        record: dict[str, Any] = {
            "SequenceNumber": names.sequence_number(stream.id, shard.index, row["position"]),
            "ApproximateArrivalTimestamp": row["arrival"], "Data": row["data"], "PartitionKey": row["partition_key"],
        }
        if stream.encryption_type != "NONE":
            record["EncryptionType"] = stream.encryption_type
        records.append(record)
        position = row["position"] + 1
    unread = rows[len(records)] if len(rows) > len(records) else None
    behind = 0 if unread is None else max(0, int((now - unread["arrival"]) * 1000))
    if not shard.is_open and unread is None:  # a closed shard read to its end: go on with its children
        return Batch(records, None, behind, shards.child_views(conn, shard))
    return Batch(records, position, behind, None)


def sweep_expired(conn: Connection, now: float) -> int:
    """Delete records past their stream's retention period."""
    deleted = 0
    for stream_id, hours in conn.execute("SELECT id, retention_hours FROM kinesis_streams").fetchall():
        deleted += conn.execute(
            "DELETE FROM kinesis_records WHERE shard_id IN (SELECT id FROM kinesis_shards WHERE stream_id = ?)"
            " AND arrival < ?", (stream_id, now - hours * 3600.0)).rowcount
    return deleted

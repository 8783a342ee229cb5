"""Streams: creation, lookup by name or ARN, status transitions, retention, tags and settings.

AWS moves a stream through CREATING/UPDATING/DELETING before it settles. Here each transitional
status carries the clock time it ends (`status_due`); whoever touches the stream after that time
settles it in the same transaction, and a durable timer settles it even if nobody looks, so the
transition is driven by the (test-controllable) clock and survives restarts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.services import paging
from eventyard.services.kinesis import names
from eventyard.storage import Connection, Row

SETTLE_TIMER = "kinesis.settle"
SHARD_LIMIT = 500  # AWS's default open-shard quota per account and region (us-east-1 and most regions)
ON_DEMAND_STREAM_LIMIT = 50
ON_DEMAND_INITIAL_SHARDS = 4  # an on-demand stream starts with 4 MiB/s of write capacity: 4 shards
MIN_RETENTION_HOURS, MAX_RETENTION_HOURS = 24, 8760
MAX_TAGS = 50


@dataclass(frozen=True)
class Stream:
    id: int
    account_id: str
    region: str
    name: str
    arn: str
    status: str
    mode: str
    retention_hours: int
    encryption_type: str
    key_id: str | None
    shard_level_metrics: list[str]
    tags: dict[str, str]
    max_record_size_kib: int
    created_at: float

    @classmethod
    def from_row(cls, row: Row) -> Stream:
        return cls(row["id"], row["account_id"], row["region"], row["name"], row["arn"], row["status"],
                   row["mode"], row["retention_hours"], row["encryption_type"], row["key_id"],
                   json.loads(row["shard_level_metrics"]), json.loads(row["tags"]), row["max_record_size_kib"],
                   row["created_at"])

    def trim_horizon(self, now: float) -> float:
        """Records that arrived before this time have expired."""
        return now - self.retention_hours * 3600.0

    def not_found(self) -> AwsError:
        return not_found(self.name, self.account_id)


def not_found(name: str, account_id: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Stream {name} under account {account_id} not found.")


@dataclass(frozen=True)
class StreamKey:
    account_id: str
    region: str
    name: str


def key_from_params(params: dict[str, Any], region: str, account_id: str) -> StreamKey:
    """The stream an operation addresses: by StreamName, by StreamARN, or both if they agree."""
    name, arn = params.get("StreamName"), params.get("StreamARN")
    if arn is not None:
        arn_region, arn_account, arn_name = names.parse_stream_arn(arn)
        if name is not None and name != arn_name:
            raise AwsError("InvalidArgumentException",
                           f"StreamARN {arn} and StreamName {name} do not refer to the same stream.")
        return StreamKey(arn_account, arn_region, arn_name)
    if name is None:
        raise AwsError("InvalidArgumentException", "Either StreamName or StreamARN should be provided.")
    return StreamKey(account_id, region, name)


# -- lookup and transitions ----------------------------------------------------------------------
def find(conn: Connection, key: StreamKey, now: float) -> Stream | None:
    row = conn.execute("SELECT * FROM kinesis_streams WHERE account_id = ? AND region = ? AND name = ?",
                       (key.account_id, key.region, key.name)).fetchone()
    if row is None:
        return None
    return settle(conn, row, now)


def get(conn: Connection, key: StreamKey, now: float) -> Stream:
    stream = find(conn, key, now)
    if stream is None:
        raise not_found(key.name, key.account_id)
    return stream


def get_readable(conn: Connection, key: StreamKey, now: float) -> Stream:
    """A stream records can be written to or read from: ACTIVE or UPDATING (AWS answers
    ResourceNotFoundException while it is still CREATING or already DELETING)."""
    stream = get(conn, key, now)
    if stream.status not in ("ACTIVE", "UPDATING"):
        raise stream.not_found()
    return stream


def get_active(conn: Connection, key: StreamKey, now: float) -> Stream:
    """A stream whose configuration may change now: only an ACTIVE one."""
    stream = get(conn, key, now)
    if stream.status != "ACTIVE":
        raise AwsError("ResourceInUseException", f"Stream {stream.name} under account {stream.account_id} "
                       f"not ACTIVE, instead in state {stream.status}")
    return stream


def settle(conn: Connection, row: Row, now: float) -> Stream | None:
    """Finish a transition whose time has come; None if the stream finished deleting."""
    due = row["status_due"]
    if due is None or now < due:
        return Stream.from_row(row)
    if row["status"] == "DELETING":
        conn.execute("DELETE FROM kinesis_streams WHERE id = ?", (row["id"],))
        return None
    conn.execute("UPDATE kinesis_streams SET status = 'ACTIVE', status_due = NULL WHERE id = ?", (row["id"],))
    return Stream.from_row(conn.execute("SELECT * FROM kinesis_streams WHERE id = ?", (row["id"],)).fetchone())


def settle_by_id(conn: Connection, stream_id: int, now: float) -> None:
    row = conn.execute("SELECT * FROM kinesis_streams WHERE id = ?", (stream_id,)).fetchone()
    if row is not None:
        settle(conn, row, now)


def begin_transition(conn: Connection, stream: Stream, status: str, now: float, delay: float) -> None:
    conn.execute("UPDATE kinesis_streams SET status = ?, status_due = ? WHERE id = ?",
                 (status, now + delay, stream.id))
    timers.schedule(conn, SETTLE_TIMER, {"stream_id": stream.id}, now + delay, now)


# -- create / delete -----------------------------------------------------------------------------
def open_shard_count(conn: Connection, account_id: str, region: str) -> int:
    return int(conn.execute(
        "SELECT COUNT(*) FROM kinesis_shards sh JOIN kinesis_streams st ON st.id = sh.stream_id"
        " WHERE st.account_id = ? AND st.region = ? AND sh.closed_at IS NULL", (account_id, region)).fetchone()[0])


def on_demand_count(conn: Connection, account_id: str, region: str) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM kinesis_streams WHERE account_id = ? AND region = ?"
                            " AND mode = 'ON_DEMAND'", (account_id, region)).fetchone()[0])


def check_shard_limit(conn: Connection, account_id: str, region: str, additional: int) -> None:
    current = open_shard_count(conn, account_id, region)
    if current + additional > SHARD_LIMIT:
        raise AwsError("LimitExceededException",
                       f"This request would exceed the shard limit for the account {account_id} in {region}. "
                       f"Current shard count for the account: {current}. Limit: {SHARD_LIMIT}. Number of "
                       f"additional shards that would have resulted from this request: {additional}.")


def create(conn: Connection, key: StreamKey, shard_count: int | None, mode: str, tags: dict[str, str],
           max_record_size_kib: int, now: float, delay: float) -> Stream:
    if find(conn, key, now) is not None:
        raise AwsError("ResourceInUseException", f"Stream {key.name} under account {key.account_id} already exists.")
    if mode == "PROVISIONED":
        if shard_count is None:
            raise AwsError("ValidationException", "1 validation error detected: Value null at 'shardCount' "
                           "failed to satisfy constraint: Member must not be null for a PROVISIONED stream")
        count = shard_count
    else:
        if on_demand_count(conn, key.account_id, key.region) >= ON_DEMAND_STREAM_LIMIT:
            raise AwsError("LimitExceededException", f"This request would exceed the limit of "
                           f"{ON_DEMAND_STREAM_LIMIT} on-demand streams for the account {key.account_id}.")
        count = ON_DEMAND_INITIAL_SHARDS
    check_shard_limit(conn, key.account_id, key.region, count)
    if len(tags) > MAX_TAGS:
        raise too_many_tags(key.name, key.account_id)
    arn = names.stream_arn(key.region, key.account_id, key.name)
    stream_id = int(conn.execute(
        "INSERT INTO kinesis_streams (account_id, region, name, arn, status, status_due, mode, tags,"
        " max_record_size_kib, next_shard_index, created_at) VALUES (?, ?, ?, ?, 'CREATING', ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        (key.account_id, key.region, key.name, arn, now + delay, mode, json.dumps(tags), max_record_size_kib,
         count, now)).fetchone()[0])
    conn.executemany(
        "INSERT INTO kinesis_shards (stream_id, shard_index, starting_hash, ending_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(stream_id, i, str(low), str(high), now) for i, (low, high) in enumerate(names.even_ranges(count))])
    timers.schedule(conn, SETTLE_TIMER, {"stream_id": stream_id}, now + delay, now)
    return Stream.from_row(conn.execute("SELECT * FROM kinesis_streams WHERE id = ?", (stream_id,)).fetchone())


def delete(conn: Connection, key: StreamKey, enforce_consumer_deletion: bool, now: float,
           delay: float) -> None:
    stream = get(conn, key, now)
    consumers = conn.execute("SELECT COUNT(*) FROM kinesis_consumers WHERE stream_id = ?", (stream.id,)).fetchone()[0]
    if consumers and not enforce_consumer_deletion:
        raise AwsError("ResourceInUseException", f"Stream {stream.name} under account {stream.account_id} has "
                       "registered consumers. Set EnforceConsumerDeletion to true to delete them with the stream.")
    if stream.status == "DELETING":
        return
    conn.execute("UPDATE kinesis_consumers SET status = 'DELETING' WHERE stream_id = ?", (stream.id,))
    begin_transition(conn, stream, "DELETING", now, delay)


def list_streams(conn: Connection, account_id: str, region: str, after: str | None, limit: int,
                 now: float) -> paging.Page[Stream]:
    """Up to `limit` streams by name after `after`; `last` says where the next page starts."""
    def read(key: paging.Key | None, count: int) -> list[tuple[str, Stream | None]]:
        sql, key_args = paging.keyset_sql("SELECT * FROM kinesis_streams", "account_id = ? AND region = ?",
                                          ["name"], key)
        rows = conn.execute(sql, [account_id, region, *key_args, count]).fetchall()
        return [(row["name"], settle(conn, row, now)) for row in rows]

    found = paging.page(read, lambda pair: (pair[0],), limit, (after,) if after else None,
                        keep=lambda pair: pair[1] is not None)
    return paging.Page([stream for _, stream in found.items if stream is not None], None, found.last)


# -- settings ------------------------------------------------------------------------------------
def set_retention(conn: Connection, key: StreamKey, hours: int, increase: bool, now: float,
                  delay: float) -> None:
    stream = get_active(conn, key, now)
    current = stream.retention_hours
    if increase:
        if hours > MAX_RETENTION_HOURS:
            raise AwsError("InvalidArgumentException", f"Maximum allowed retention period is {MAX_RETENTION_HOURS} "
                           f"hours. Requested retention period ({hours} hours) is too long.")
        if hours < current:
            raise AwsError("InvalidArgumentException", f"Requested retention period ({hours} hours) for stream "
                           f"{stream.name} can not be shorter than existing retention period ({current} hours). "
                           "Use DecreaseRetentionPeriod API.")
    else:
        if hours < MIN_RETENTION_HOURS:
            raise AwsError("InvalidArgumentException", f"Minimum allowed retention period is {MIN_RETENTION_HOURS} "
                           f"hours. Requested retention period ({hours} hours) is too short.")
        if hours > current:
            raise AwsError("InvalidArgumentException", f"Requested retention period ({hours} hours) for stream "
                           f"{stream.name} can not be longer than existing retention period ({current} hours). "
                           "Use IncreaseRetentionPeriod API.")
    if hours == current:
        return
    conn.execute("UPDATE kinesis_streams SET retention_hours = ? WHERE id = ?", (hours, stream.id))
    begin_transition(conn, stream, "UPDATING", now, delay)


def set_encryption(conn: Connection, key: StreamKey, encryption_type: str, key_id: str | None,
                   now: float, delay: float) -> None:
    stream = get_active(conn, key, now)
    conn.execute("UPDATE kinesis_streams SET encryption_type = ?, key_id = ? WHERE id = ?",
                 (encryption_type, key_id, stream.id))
    begin_transition(conn, stream, "UPDATING", now, delay)


def set_metrics(conn: Connection, key: StreamKey, metrics: list[str], enable: bool,
                now: float) -> tuple[Stream, list[str], list[str]]:
    stream = get_active(conn, key, now)
    current = stream.shard_level_metrics
    every = ["IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded",
             "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"]
    chosen = every if "ALL" in metrics else metrics
    desired = sorted(set(current) | set(chosen)) if enable else sorted(set(current) - set(chosen))
    desired = [m for m in every if m in desired]
    conn.execute("UPDATE kinesis_streams SET shard_level_metrics = ? WHERE id = ?", (json.dumps(desired), stream.id))
    return stream, current, desired


def set_mode(conn: Connection, key: StreamKey, mode: str, now: float, delay: float) -> None:
    stream = get_active(conn, key, now)
    if stream.mode == mode:
        raise AwsError("InvalidArgumentException", f"Stream {stream.name} under account {stream.account_id} is "
                       f"already in {mode} mode.")
    if mode == "ON_DEMAND" and on_demand_count(conn, stream.account_id, stream.region) >= ON_DEMAND_STREAM_LIMIT:
        raise AwsError("LimitExceededException", f"This request would exceed the limit of {ON_DEMAND_STREAM_LIMIT} "
                       f"on-demand streams for the account {stream.account_id}.")
    conn.execute("UPDATE kinesis_streams SET mode = ? WHERE id = ?", (mode, stream.id))
    begin_transition(conn, stream, "UPDATING", now, delay)


def set_max_record_size(conn: Connection, key: StreamKey, kib: int, now: float) -> None:
    stream = get_active(conn, key, now)
    conn.execute("UPDATE kinesis_streams SET max_record_size_kib = ? WHERE id = ?", (kib, stream.id))


def set_policy(conn: Connection, key: StreamKey, policy: str | None, now: float) -> None:
    stream = get(conn, key, now)
    if policy is None and conn.execute("SELECT resource_policy FROM kinesis_streams WHERE id = ?",
                                       (stream.id,)).fetchone()[0] is None:
        # Deleting a policy that is not there fails (recorded against AWS; the wording is ours).
        raise AwsError("ResourceNotFoundException", f"Stream {stream.name} under account {stream.account_id} "
                       "has no resource policy.")
    conn.execute("UPDATE kinesis_streams SET resource_policy = ? WHERE id = ?", (policy, stream.id))


def get_policy(conn: Connection, key: StreamKey, now: float) -> str:
    stream = get(conn, key, now)
    row = conn.execute("SELECT resource_policy FROM kinesis_streams WHERE id = ?", (stream.id,)).fetchone()
    return row[0] or "{}"


# -- tags ----------------------------------------------------------------------------------------
def too_many_tags(name: str, account_id: str) -> AwsError:
    return AwsError("InvalidArgumentException", f"Failed to add tags to stream {name} under account {account_id} "
                    f"because a given stream cannot have more than {MAX_TAGS} tags.")


def add_tags(conn: Connection, key: StreamKey, tags: dict[str, str], now: float) -> None:
    stream = get(conn, key, now)
    merged = {**stream.tags, **tags}
    if len(merged) > MAX_TAGS:
        raise too_many_tags(stream.name, stream.account_id)
    conn.execute("UPDATE kinesis_streams SET tags = ? WHERE id = ?", (json.dumps(merged), stream.id))


def remove_tags(conn: Connection, key: StreamKey, tag_keys: list[str], now: float) -> None:
    stream = get(conn, key, now)
    kept = {k: v for k, v in stream.tags.items() if k not in set(tag_keys)}
    conn.execute("UPDATE kinesis_streams SET tags = ? WHERE id = ?", (json.dumps(kept), stream.id))


# -- views ---------------------------------------------------------------------------------------
def mode_details(stream: Stream) -> dict[str, str]:
    return {"StreamMode": stream.mode}


def summary(conn: Connection, stream: Stream) -> dict[str, Any]:
    open_shards = conn.execute("SELECT COUNT(*) FROM kinesis_shards WHERE stream_id = ? AND closed_at IS NULL",
                               (stream.id,)).fetchone()[0]
    consumers = conn.execute("SELECT COUNT(*) FROM kinesis_consumers WHERE stream_id = ?", (stream.id,)).fetchone()[0]
    view: dict[str, Any] = {
        "StreamName": stream.name, "StreamARN": stream.arn, "StreamStatus": stream.status,
        "StreamModeDetails": mode_details(stream), "RetentionPeriodHours": stream.retention_hours,
        "StreamCreationTimestamp": stream.created_at,
        "EnhancedMonitoring": [{"ShardLevelMetrics": stream.shard_level_metrics}],
        "EncryptionType": stream.encryption_type, "OpenShardCount": open_shards, "ConsumerCount": consumers,
        "MaxRecordSizeInKiB": stream.max_record_size_kib,
    }
    if stream.key_id:
        view["KeyId"] = stream.key_id
    return view

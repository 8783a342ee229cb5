"""Log groups, streams and events as functions of a connection (also used by Lambda's log writer)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.partitions import arn
from eventyard.services.logs import ingest
from eventyard.storage import Connection, Row


def _not_found(what: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"The specified log {what} does not exist.")


def group_arn(region: str, account_id: str, name: str) -> str:
    return arn("logs", region, account_id, f"log-group:{name}")


def create_group(conn: Connection, account_id: str, region: str, name: str, now: float,
                 tags: dict[str, str] | None = None, exist_ok: bool = False, deletion_protection: bool = False) -> int:
    row = conn.execute("SELECT id FROM logs_groups WHERE account_id=? AND region=? AND name=?",
                       (account_id, region, name)).fetchone()
    if row is not None:
        if exist_ok:
            return int(row["id"])
        raise AwsError("ResourceAlreadyExistsException", "The specified log group already exists")
    return int(conn.execute(
        "INSERT INTO logs_groups (account_id, region, name, created_at, tags, deletion_protection)"
        " VALUES (?,?,?,?,?,?) RETURNING id",
        (account_id, region, name, now, json.dumps(tags or {}), int(deletion_protection))).fetchone()[0])


def get_group(conn: Connection, account_id: str, region: str, name: str) -> Row:
    row = conn.execute("SELECT * FROM logs_groups WHERE account_id=? AND region=? AND name=?",
                       (account_id, region, name)).fetchone()
    if row is None:
        raise _not_found("group")
    return row


def delete_group(conn: Connection, account_id: str, region: str, name: str) -> None:
    group = get_group(conn, account_id, region, name)
    if group["deletion_protection"]:
        raise AwsError("ValidationException",
                       "Cannot delete log group with deletion protection enabled. Disable deletion protection first.")
    streams = [r["id"] for r in conn.execute("SELECT id FROM logs_streams WHERE group_id=?", (group["id"],))]
    conn.executemany("DELETE FROM logs_events WHERE stream_id=?", [(s,) for s in streams])
    conn.execute("DELETE FROM logs_streams WHERE group_id=?", (group["id"],))
    conn.execute("DELETE FROM logs_groups WHERE id=?", (group["id"],))


def create_stream(conn: Connection, group_id: int, name: str, now: float, exist_ok: bool = False) -> int:
    row = conn.execute("SELECT id FROM logs_streams WHERE group_id=? AND name=?", (group_id, name)).fetchone()
    if row is not None:
        if exist_ok:
            return int(row["id"])
        raise AwsError("ResourceAlreadyExistsException", "The specified log stream already exists")
    return int(conn.execute("INSERT INTO logs_streams (group_id, name, created_at) VALUES (?,?,?) RETURNING id",
                            (group_id, name, now)).fetchone()[0])


def get_stream(conn: Connection, group_id: int, name: str) -> Row:
    row = conn.execute("SELECT * FROM logs_streams WHERE group_id=? AND name=?", (group_id, name)).fetchone()
    if row is None:
        raise _not_found("stream")
    return row


def put_events(conn: Connection, stream_id: int, events: Iterable[tuple[int, str]], now: float) -> None:
    """Append (timestamp ms, message) pairs; ingestion time is the server's clock."""
    rows = [(stream_id, int(ts), int(now * 1000), message) for ts, message in events]
    if not rows:
        return
    found = ingest.listeners(conn, stream_id)
    if found is not None and found.need_event_ids:
        ids = [conn.execute("INSERT INTO logs_events (stream_id, timestamp, ingestion_time, message)"
                            " VALUES (?,?,?,?) RETURNING id", row).fetchone()[0] for row in rows]
    else:
        conn.executemany("INSERT INTO logs_events (stream_id, timestamp, ingestion_time, message) VALUES (?,?,?,?)",
                         rows)
        ids = [0] * len(rows)
    if found is not None:  # metric filters and subscription filters see the events in this transaction
        ingest.stored(conn, found, [(int(i), r[1], r[3]) for i, r in zip(ids, rows, strict=True)], now)
    stamps = [r[1] for r in rows]
    size = sum(len(r[3].encode()) + 26 for r in rows)
    first, last = min(stamps), max(stamps)
    conn.execute(
        "UPDATE logs_streams SET"
        " first_event_at = CASE WHEN first_event_at IS NULL OR first_event_at > ? THEN ? ELSE first_event_at END,"
        " last_event_at = CASE WHEN last_event_at IS NULL OR last_event_at < ? THEN ? ELSE last_event_at END,"
        " last_ingestion_at = ?, stored_bytes = stored_bytes + ? WHERE id = ?",
        (first, first, last, last, int(now * 1000), size, stream_id))


def append(conn: Connection, account_id: str, region: str, group: str, stream: str,
           events: Iterable[tuple[int, str]], now: float) -> None:
    """Write to a group and stream, creating them as Lambda's log agent does."""
    group_id = create_group(conn, account_id, region, group, now, exist_ok=True)
    stream_id = create_stream(conn, group_id, stream, now, exist_ok=True)
    put_events(conn, stream_id, events, now)


def describe_group(row: Row, region: str, account_id: str, searched: bool = False) -> dict[str, Any]:
    """A group as DescribeLogGroups shows it; `searched` (logGroupNamePattern): without storedBytes and
    deletionProtectionEnabled, as AWS's pattern search answers."""
    arn = group_arn(region, account_id, row["name"])
    out: dict[str, Any] = {"logGroupName": row["name"], "creationTime": int(row["created_at"] * 1000),
                           "metricFilterCount": _metric_filter_count(row), "arn": f"{arn}:*", "logGroupArn": arn,
                           "logGroupClass": "STANDARD"}
    if not searched:
        out.update(storedBytes=0, deletionProtectionEnabled=bool(row["deletion_protection"]))
    if row["retention_days"] is not None:
        out["retentionInDays"] = row["retention_days"]
    return out


def _metric_filter_count(row: Row) -> int:
    return int(row["metric_filter_count"] or 0) if "metric_filter_count" in row.keys() else 0


def describe_stream(row: Row, group_arn_text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"logStreamName": row["name"], "creationTime": int(row["created_at"] * 1000),
                           "arn": f"{group_arn_text}:log-stream:{row['name']}", "storedBytes": row["stored_bytes"]}
    for column, key in (("first_event_at", "firstEventTimestamp"), ("last_event_at", "lastEventTimestamp"),
                        ("last_ingestion_at", "lastIngestionTime")):
        if row[column] is not None:
            out[key] = row[column]
    return out

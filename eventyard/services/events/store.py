"""Resource documents and tags: the storage every EventBridge and Scheduler module writes through.

Functions of a connection, run inside `platform.db.write`, so each API call is one transaction."""

from __future__ import annotations

import json
from typing import Any

from eventyard.storage import Connection


def get(conn: Connection, kind: str, account: str, region: str, name: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT doc FROM events_resources WHERE kind = ? AND account_id = ? AND region = ? AND name = ?",
        (kind, account, region, name),
    ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def put(conn: Connection, kind: str, account: str, region: str, name: str, doc: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO events_resources (kind, account_id, region, name, doc) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (kind, account_id, region, name) DO UPDATE SET doc = excluded.doc",
        (kind, account, region, name, json.dumps(doc)),
    )


def delete(conn: Connection, kind: str, account: str, region: str, name: str) -> bool:
    return conn.execute(
        "DELETE FROM events_resources WHERE kind = ? AND account_id = ? AND region = ? AND name = ?",
        (kind, account, region, name),
    ).rowcount > 0


def list_docs(conn: Connection, kind: str, account: str | None = None, region: str | None = None,
              prefix: str = "") -> list[dict[str, Any]]:
    sql = "SELECT doc FROM events_resources WHERE kind = ?"
    args: list[Any] = [kind]
    if account is not None:
        sql += " AND account_id = ? AND region = ?"
        args += [account, region]
    if prefix:
        sql += " AND substr(name, 1, ?) = ?"
        args += [len(prefix), prefix]
    sql += " ORDER BY name"
    return [dict(json.loads(row[0])) for row in conn.execute(sql, args)]


def get_tags(conn: Connection, arn: str) -> list[dict[str, str]]:
    return [{"Key": r[0], "Value": r[1]} for r in
            conn.execute("SELECT key, value FROM events_tags WHERE arn = ? ORDER BY key", (arn,))]


def set_tags(conn: Connection, arn: str, tags: list[dict[str, str]]) -> None:
    conn.executemany("INSERT INTO events_tags (arn, key, value) VALUES (?, ?, ?)"
                     " ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
                     [(arn, t["Key"], t["Value"]) for t in tags])


def remove_tags(conn: Connection, arn: str, keys: list[str] | None = None) -> None:
    if keys is None:
        conn.execute("DELETE FROM events_tags WHERE arn = ?", (arn,))
    else:
        conn.executemany("DELETE FROM events_tags WHERE arn = ? AND key = ?", [(arn, k) for k in keys])


def paginate(items: list[Any], token: str | None, limit: int | None, default: int = 100) -> tuple[list[Any], str | None]:
    """Offset tokens: opaque to clients, stable enough for the sorted lists EventBridge returns."""
    from eventyard.protocol.errors import AwsError
    start = 0
    if token:
        try:
            start = int(token)
        except ValueError:
            raise AwsError("ValidationException", "The NextToken provided is invalid.") from None
    size = limit or default
    page = items[start:start + size]
    nxt = str(start + size) if start + size < len(items) else None
    return page, nxt

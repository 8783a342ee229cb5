"""Schedule groups, schedules and the groups' tags in Scheduler's own tables (schema.py).

Functions of a connection, run inside `platform.db.write`, so each API call is one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.storage import Connection

DEFAULT_LIMIT = 100


def get(conn: Connection, kind: str, account: str, region: str, name: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT doc FROM scheduler_resources WHERE kind = ? AND account_id = ? AND region = ? AND name = ?",
        (kind, account, region, name),
    ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def put(conn: Connection, kind: str, account: str, region: str, name: str, doc: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO scheduler_resources (kind, account_id, region, name, doc) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (kind, account_id, region, name) DO UPDATE SET doc = excluded.doc",
        (kind, account, region, name, json.dumps(doc)),
    )


def delete(conn: Connection, kind: str, account: str, region: str, name: str) -> bool:
    return conn.execute(
        "DELETE FROM scheduler_resources WHERE kind = ? AND account_id = ? AND region = ? AND name = ?",
        (kind, account, region, name),
    ).rowcount > 0


def delete_prefixed(conn: Connection, kind: str, account: str, region: str, prefix: str) -> None:
    """Every document of `kind` whose name starts with `prefix` (a group's schedules: "<group>/")."""
    conn.execute("DELETE FROM scheduler_resources WHERE kind = ? AND account_id = ? AND region = ?"
                 " AND substr(name, 1, ?) = ?", (kind, account, region, len(prefix), prefix))


def get_tags(conn: Connection, arn: str) -> list[dict[str, str]]:
    return [{"Key": r[0], "Value": r[1]} for r in
            conn.execute("SELECT key, value FROM scheduler_tags WHERE arn = ? ORDER BY key", (arn,))]


def set_tags(conn: Connection, arn: str, tags: list[dict[str, str]]) -> None:
    conn.executemany("INSERT INTO scheduler_tags (arn, key, value) VALUES (?, ?, ?)"
                     " ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
                     [(arn, t["Key"], t["Value"]) for t in tags])


def remove_tags(conn: Connection, arn: str, keys: list[str] | None = None) -> None:
    if keys is None:
        conn.execute("DELETE FROM scheduler_tags WHERE arn = ?", (arn,))
    else:
        conn.executemany("DELETE FROM scheduler_tags WHERE arn = ? AND key = ?", [(arn, k) for k in keys])


def _token_error(token: str) -> AwsError:
    return AwsError("ValidationException", "The NextToken provided is invalid.")


def _docs_after(conn: Connection, kind: str, account: str, region: str, prefix: str,
                after: paging.Key | None, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Up to `count` (name, document) pairs of one kind whose name sorts after `after`, by name."""
    where = "kind = ? AND account_id = ? AND region = ?"
    args: list[Any] = [kind, account, region]
    if prefix:
        where += " AND substr(name, 1, ?) = ?"
        args += [len(prefix), prefix]
    sql, key_args = paging.keyset_sql("SELECT name, doc FROM scheduler_resources", where, ["name"], after)
    rows = conn.execute(sql, [*args, *key_args, count]).fetchall()
    return [(row[0], dict(json.loads(row[1]))) for row in rows]


def listing(conn: Connection, kind: str, account: str, region: str, token: str | None, limit: int | None,
            prefix: str = "", keep: Callable[[dict[str, Any]], bool] | None = None) -> paging.Page[dict[str, Any]]:
    """One page of the documents of `kind`, by name, after the page `token` ended."""
    listing_name = f"scheduler:{kind}"
    after = paging.unseal(token, listing_name, _token_error) if token else None
    found = paging.page(lambda key, count: _docs_after(conn, kind, account, region, prefix, key, count),
                        lambda pair: (pair[0],), limit or DEFAULT_LIMIT, after,
                        None if keep is None else (lambda pair: keep(pair[1])), listing_name)
    return paging.Page([doc for _, doc in found.items], found.next_token)

"""A service's resource documents and tags in two tables of its own: small JSON documents keyed by
(kind, account, region, name), read whole and rewritten whole, and tags by ARN.

EventBridge (buses, rules, archives, connections, ...) and Scheduler (schedule groups, schedules)
keep their resources this way, each in its own tables (one owner per table); this is the one piece of
code both run. Functions of a connection, run inside `platform.db.write`, so each API call is one
transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.storage import Connection

DEFAULT_LIMIT = 100


def _token_error(token: str) -> AwsError:
    return AwsError("ValidationException", "The NextToken provided is invalid.")


class DocumentTables:
    """The documents table `resources` and the tags table `tags` of one service; `service` names its
    pagination tokens (a token of one listing is refused by another)."""

    def __init__(self, resources: str, tags: str, service: str) -> None:
        self.resources = resources
        self.tags = tags
        self.service = service

    def get(self, conn: Connection, kind: str, account: str, region: str, name: str) -> dict[str, Any] | None:
        row = conn.execute(
            f"SELECT doc FROM {self.resources} WHERE kind = ? AND account_id = ? AND region = ? AND name = ?",
            (kind, account, region, name),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, conn: Connection, kind: str, account: str, region: str, name: str, doc: dict[str, Any]) -> None:
        conn.execute(
            f"INSERT INTO {self.resources} (kind, account_id, region, name, doc) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (kind, account_id, region, name) DO UPDATE SET doc = excluded.doc",
            (kind, account, region, name, json.dumps(doc)),
        )

    def delete(self, conn: Connection, kind: str, account: str, region: str, name: str) -> bool:
        return conn.execute(
            f"DELETE FROM {self.resources} WHERE kind = ? AND account_id = ? AND region = ? AND name = ?",
            (kind, account, region, name),
        ).rowcount > 0

    def delete_prefixed(self, conn: Connection, kind: str, account: str, region: str, prefix: str) -> None:
        """Every document of `kind` whose name starts with `prefix` (a group's schedules: "<group>/")."""
        conn.execute(f"DELETE FROM {self.resources} WHERE kind = ? AND account_id = ? AND region = ?"
                     " AND substr(name, 1, ?) = ?", (kind, account, region, len(prefix), prefix))

    def list_docs(self, conn: Connection, kind: str, account: str | None = None, region: str | None = None,
                  prefix: str = "") -> list[dict[str, Any]]:
        sql = f"SELECT doc FROM {self.resources} WHERE kind = ?"
        args: list[Any] = [kind]
        if account is not None:
            sql += " AND account_id = ? AND region = ?"
            args += [account, region]
        if prefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        sql += " ORDER BY name"
        return [dict(json.loads(row[0])) for row in conn.execute(sql, args)]

    def get_tags(self, conn: Connection, arn: str) -> list[dict[str, str]]:
        return [{"Key": r[0], "Value": r[1]} for r in
                conn.execute(f"SELECT key, value FROM {self.tags} WHERE arn = ? ORDER BY key", (arn,))]

    def set_tags(self, conn: Connection, arn: str, tags: list[dict[str, str]]) -> None:
        conn.executemany(f"INSERT INTO {self.tags} (arn, key, value) VALUES (?, ?, ?)"
                         " ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
                         [(arn, t["Key"], t["Value"]) for t in tags])

    def remove_tags(self, conn: Connection, arn: str, keys: list[str] | None = None) -> None:
        if keys is None:
            conn.execute(f"DELETE FROM {self.tags} WHERE arn = ?", (arn,))
        else:
            conn.executemany(f"DELETE FROM {self.tags} WHERE arn = ? AND key = ?", [(arn, k) for k in keys])

    def docs_after(self, conn: Connection, kind: str, account: str, region: str, prefix: str,
                   after: paging.Key | None, count: int) -> list[tuple[str, dict[str, Any]]]:
        """Up to `count` (name, document) pairs of one kind whose name sorts after `after`, by name."""
        where = "kind = ? AND account_id = ? AND region = ?"
        args: list[Any] = [kind, account, region]
        if prefix:
            where += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        sql, key_args = paging.keyset_sql(f"SELECT name, doc FROM {self.resources}", where, ["name"], after)
        rows = conn.execute(sql, [*args, *key_args, count]).fetchall()
        return [(row[0], dict(json.loads(row[1]))) for row in rows]

    def listing(self, conn: Connection, kind: str, account: str, region: str, token: str | None,
                limit: int | None, prefix: str = "", keep: Callable[[dict[str, Any]], bool] | None = None,
                default: int = DEFAULT_LIMIT) -> paging.Page[dict[str, Any]]:
        """One page of the documents of `kind`, by name, after the page `token` ended."""
        listing_name = f"{self.service}:{kind}"
        after = paging.unseal(token, listing_name, _token_error) if token else None
        found = paging.page(lambda key, count: self.docs_after(conn, kind, account, region, prefix, key, count),
                            lambda pair: (pair[0],), limit or default, after,
                            None if keep is None else (lambda pair: keep(pair[1])), listing_name)
        return paging.Page([doc for _, doc in found.items], found.next_token)


def in_memory(items: list[Any], token: str | None, limit: int | None, listing_name: str,
              default: int = DEFAULT_LIMIT) -> paging.Page[Any]:
    """A page of a list held in one document (a rule's targets), in its stored order."""
    return paging.in_memory(items, token, limit or default, listing_name, _token_error)

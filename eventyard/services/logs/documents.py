"""Small named resources of CloudWatch Logs kept as JSON documents: resource policies, destinations,
delivery sources, delivery destinations and deliveries (`kind` tells them apart)."""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.storage import Connection

RESOURCE_POLICY = "resource-policy"
DESTINATION = "destination"
DELIVERY_SOURCE = "delivery-source"
DELIVERY_DESTINATION = "delivery-destination"
DELIVERY = "delivery"


def token_error(token: str) -> AwsError:
    return AwsError("InvalidParameterException", "The specified nextToken is invalid.")


def get(conn: Connection, kind: str, account_id: str, region: str, name: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT doc FROM logs_documents WHERE kind=? AND account_id=? AND region=? AND name=?",
                       (kind, account_id, region, name)).fetchone()
    return None if row is None else dict(json.loads(row["doc"]))


def put(conn: Connection, kind: str, account_id: str, region: str, name: str, doc: dict[str, Any]) -> None:
    conn.execute("INSERT INTO logs_documents (kind, account_id, region, name, doc) VALUES (?,?,?,?,?)"
                 " ON CONFLICT (kind, account_id, region, name) DO UPDATE SET doc = excluded.doc",
                 (kind, account_id, region, name, json.dumps(doc)))


def delete(conn: Connection, kind: str, account_id: str, region: str, name: str) -> bool:
    return bool(conn.execute("DELETE FROM logs_documents WHERE kind=? AND account_id=? AND region=? AND name=?",
                             (kind, account_id, region, name)).rowcount)


def count(conn: Connection, kind: str, account_id: str, region: str) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM logs_documents WHERE kind=? AND account_id=? AND region=?",
                            (kind, account_id, region)).fetchone()[0])


def listing(conn: Connection, kind: str, account_id: str, region: str, token: str | None, limit: int,
            prefix: str = "") -> paging.Page[dict[str, Any]]:
    """A page of one kind's documents by name, after the page `token` ended."""
    name = f"logs:{kind}:{account_id}:{region}:{prefix}"
    after = paging.unseal(token, name, token_error) if token else None

    def read(key: paging.Key | None, rows: int) -> list[tuple[str, dict[str, Any]]]:
        sql, key_args = paging.keyset_sql(
            "SELECT name, doc FROM logs_documents",
            "kind = ? AND account_id = ? AND region = ? AND substr(name, 1, ?) = ?", ["name"], key)
        found = conn.execute(sql, [kind, account_id, region, len(prefix), prefix, *key_args, rows]).fetchall()
        return [(row["name"], dict(json.loads(row["doc"]))) for row in found]

    found = paging.page(read, lambda pair: (pair[0],), limit, after, listing=name)
    return paging.Page([doc for _, doc in found.items], found.next_token, found.last)

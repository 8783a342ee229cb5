"""Discoverers: one per event bus, STARTED or STOPPED. A started discoverer's bus has its events'
schemas written to the `discovered-schemas` registry (see discovery.py)."""

from __future__ import annotations

import json
from typing import Any

from eventyard.services.schemas.errors import bad_request, conflict, not_found
from eventyard.storage import Connection


def discoverer_id(source_arn: str) -> str:
    """AWS names a bus's discoverer after it: `events-event-bus-<bus name>`."""
    return "events-event-bus-" + source_arn.split(":event-bus/", 1)[1].replace("/", "-")


def describe(row: Any) -> dict[str, Any]:
    answer = {"DiscovererArn": row["arn"], "DiscovererId": row["id"], "SourceArn": row["source_arn"],
              "State": row["state"], "CrossAccount": bool(row["cross_account"]), "Tags": json.loads(row["tags"])}
    if row["description"] is not None:
        answer["Description"] = row["description"]
    return answer


def create(conn: Connection, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    source = params["SourceArn"]
    parts = source.split(":", 5)
    if len(parts) != 6 or parts[2] != "events" or not parts[5].startswith("event-bus/"):
        raise bad_request(f"SourceArn {source} is not an event bus ARN.")
    identifier = discoverer_id(source)
    if conn.execute("SELECT 1 FROM schemas_discoverers WHERE account_id = ? AND region = ? AND id = ?",
                    (account, region, identifier)).fetchone() is not None:
        raise conflict(f"Discoverer for SourceArn {source} already exists.")
    arn = f"arn:aws:schemas:{region}:{account}:discoverer/{identifier}"
    conn.execute("INSERT INTO schemas_discoverers (id, account_id, region, arn, source_arn, description, state,"
                 " cross_account, tags) VALUES (?, ?, ?, ?, ?, ?, 'STARTED', ?, ?)",
                 (identifier, account, region, arn, source, params.get("Description"),
                  int(params.get("CrossAccount", True)), json.dumps(params.get("Tags") or {})))
    return get(conn, account, region, identifier)


def row(conn: Connection, account: str, region: str, identifier: str) -> Any:
    found = conn.execute("SELECT * FROM schemas_discoverers WHERE account_id = ? AND region = ? AND id = ?",
                         (account, region, identifier)).fetchone()
    if found is None:
        raise not_found(f"Discoverer with id {identifier} does not exist.")
    return found


def get(conn: Connection, account: str, region: str, identifier: str) -> dict[str, Any]:
    return describe(row(conn, account, region, identifier))


def update(conn: Connection, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    current = row(conn, account, region, params["DiscovererId"])
    description = params.get("Description", current["description"])
    cross = int(params["CrossAccount"]) if "CrossAccount" in params else current["cross_account"]
    conn.execute("UPDATE schemas_discoverers SET description = ?, cross_account = ? WHERE account_id = ? AND"
                 " region = ? AND id = ?", (description, cross, account, region, current["id"]))
    return get(conn, account, region, current["id"])


def set_state(conn: Connection, account: str, region: str, identifier: str, state: str) -> None:
    row(conn, account, region, identifier)
    conn.execute("UPDATE schemas_discoverers SET state = ? WHERE account_id = ? AND region = ? AND id = ?",
                 (state, account, region, identifier))


def delete(conn: Connection, account: str, region: str, identifier: str) -> None:
    row(conn, account, region, identifier)
    conn.execute("DELETE FROM schemas_discoverers WHERE account_id = ? AND region = ? AND id = ?",
                 (account, region, identifier))


def listed(conn: Connection, account: str, region: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM schemas_discoverers WHERE account_id = ? AND region = ? ORDER BY id",
                        (account, region)).fetchall()
    return [describe(r) for r in rows]


def started_buses(conn: Connection) -> set[tuple[str, str, str]]:
    """(account, region, bus name) of every bus a started discoverer watches."""
    rows = conn.execute("SELECT source_arn FROM schemas_discoverers WHERE state = 'STARTED'").fetchall()
    buses = set()
    for (source,) in rows:
        _, _, _, region, account, resource = source.split(":", 5)
        buses.add((account, region, resource.split("/", 1)[1]))
    return buses

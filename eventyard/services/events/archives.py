"""Archives (events kept durably, optionally filtered by a pattern, for a retention period) and
replays (a time window of an archive sent back through its bus's rules, `replay-name` set)."""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.services.events import buses, store
from eventyard.services.events.arns import arn_of, name_from_arn, parse_arn
from eventyard.services.events.rules import validate_pattern
from eventyard.storage import Connection

ARCHIVE = "archive"
REPLAY = "replay"
REPLAY_TIMER = "events.replay"
REPLAY_BATCH = 100
FINISHED = ("COMPLETED", "CANCELLED", "FAILED")


def create(conn: Connection, account: str, region: str, params: dict[str, Any], now: float) -> dict[str, Any]:
    name = params["ArchiveName"]
    if store.get(conn, ARCHIVE, account, region, name) is not None:
        raise AwsError("ResourceAlreadyExistsException", f"Archive {name} already exists.")
    bus = name_from_arn(params["EventSourceArn"], "event-bus")
    buses.get(conn, account, region, bus, now)
    if params.get("EventPattern"):
        validate_pattern(params["EventPattern"])
    doc = {"ArchiveName": name, "ArchiveArn": arn_of("archive", account, region, name),
           "EventSourceArn": params["EventSourceArn"], "State": "ENABLED",
           "RetentionDays": params.get("RetentionDays", 0), "CreationTime": now, "_bus": bus}
    for key in ("Description", "EventPattern"):
        if params.get(key):
            doc[key] = params[key]
    store.put(conn, ARCHIVE, account, region, name, doc)
    return doc


def get(conn: Connection, account: str, region: str, name: str) -> dict[str, Any]:
    doc = store.get(conn, ARCHIVE, account, region, name)
    if doc is None:
        raise AwsError("ResourceNotFoundException", f"Archive {name} does not exist.")
    return doc


def update(conn: Connection, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    doc = get(conn, account, region, params["ArchiveName"])
    if "EventPattern" in params:
        if params["EventPattern"]:
            validate_pattern(params["EventPattern"])
            doc["EventPattern"] = params["EventPattern"]
        else:
            doc.pop("EventPattern", None)
    for key in ("Description", "RetentionDays"):
        if key in params:
            doc[key] = params[key]
    store.put(conn, ARCHIVE, account, region, doc["ArchiveName"], doc)
    return doc


def delete(conn: Connection, account: str, region: str, name: str) -> dict[str, Any]:
    doc = get(conn, account, region, name)
    store.delete(conn, ARCHIVE, account, region, name)
    conn.execute("DELETE FROM events_archived WHERE archive_arn = ?", (doc["ArchiveArn"],))
    return doc


def describe(conn: Connection, doc: dict[str, Any]) -> dict[str, Any]:
    count, size = conn.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM events_archived WHERE archive_arn = ?",
                               (doc["ArchiveArn"],)).fetchone()
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    out.update(EventCount=count, SizeBytes=size)
    return out


def sweep(conn: Connection, now: float) -> None:
    """Drop archived events older than their archive's RetentionDays (0 keeps them forever)."""
    for doc in store.list_docs(conn, ARCHIVE):
        days = doc.get("RetentionDays") or 0
        if days:
            conn.execute("DELETE FROM events_archived WHERE archive_arn = ? AND ingested_at < ?",
                         (doc["ArchiveArn"], now - days * 86400))


# -- replays ---------------------------------------------------------------------------------
def start_replay(conn: Connection, account: str, region: str, params: dict[str, Any],
                 now: float) -> dict[str, Any]:
    name = params["ReplayName"]
    if store.get(conn, REPLAY, account, region, name) is not None:
        raise AwsError("ResourceAlreadyExistsException", f"Replay {name} already exists.")
    start, end = params["EventStartTime"], params["EventEndTime"]
    if start >= end:
        raise AwsError("ValidationException",
                       "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")
    # An end in the future is accepted (recorded against AWS): the replay covers what is archived.
    _, _, _, resource = parse_arn(params["EventSourceArn"])
    archive_name = resource.split("/", 1)[-1]
    archive = store.get(conn, ARCHIVE, account, region, archive_name)
    if archive is None:
        raise AwsError("ValidationException",
                       f"Parameter EventSourceArn is not valid. Reason: Archive {archive_name} does not exist.")
    destination = params["Destination"]
    _, bus_region, bus_account, bus_resource = parse_arn(destination["Arn"])
    buses.get(conn, bus_account, bus_region, bus_resource.split("/", 1)[-1], now)  # "Event bus X does not exist."
    if destination["Arn"] != archive["EventSourceArn"]:
        raise AwsError("ValidationException",
                       "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.")
    doc = {"ReplayName": name, "ReplayArn": arn_of("replay", account, region, name),
           "EventSourceArn": archive["ArchiveArn"], "Destination": destination, "EventStartTime": start,
           "EventEndTime": end, "State": "STARTING", "ReplayStartTime": now, "_cursor": 0,
           "_bus": archive["_bus"]}
    if params.get("Description"):
        doc["Description"] = params["Description"]
    store.put(conn, REPLAY, account, region, name, doc)
    timers.schedule(conn, REPLAY_TIMER, {"account": account, "region": region, "name": name}, now, now)
    return doc


def get_replay(conn: Connection, account: str, region: str, name: str) -> dict[str, Any]:
    doc = store.get(conn, REPLAY, account, region, name)
    if doc is None:
        raise AwsError("ResourceNotFoundException", f"Replay {name} does not exist.")
    return doc


def cancel_replay(conn: Connection, account: str, region: str, name: str) -> dict[str, Any]:
    doc = get_replay(conn, account, region, name)
    if doc["State"] in FINISHED or doc["State"] == "CANCELLING":
        raise AwsError("IllegalStatusException", f"Replay {name} is not in a valid state for this operation.")
    doc["State"] = "CANCELLING"
    store.put(conn, REPLAY, account, region, name, doc)
    return doc


def next_batch(conn: Connection, doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    rows = conn.execute(
        "SELECT seq, event FROM events_archived WHERE archive_arn = ? AND seq > ? AND event_time >= ?"
        " AND event_time < ? ORDER BY seq LIMIT ?",
        (doc["EventSourceArn"], doc["_cursor"], doc["EventStartTime"], doc["EventEndTime"], REPLAY_BATCH),
    ).fetchall()
    return [(row[0], json.loads(row[1])) for row in rows]


def describe_replay(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}

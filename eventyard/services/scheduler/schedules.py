"""Schedule groups and schedules: validation as AWS does it, and the firing timer chain.

A schedule's next firing is one durable timer carrying the schedule's token; updating the schedule
issues a new token, retiring the old chain. Times follow ScheduleExpressionTimezone (IANA zones)."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.runtime.partitions import arn
from eventyard.services import schedule_expressions as se
from eventyard.services.scheduler import store
from eventyard.storage import Connection

GROUP = "schedule-group"
SCHEDULE = "schedule"
FIRE_TIMER = "scheduler.fire"
DEFAULT_GROUP = "default"


def group_arn(account: str, region: str, name: str) -> str:
    return arn("scheduler", region, account, f"schedule-group/{name}")


def schedule_arn(account: str, region: str, group: str, name: str) -> str:
    return arn("scheduler", region, account, f"schedule/{group}/{name}")


def ensure_default_group(conn: Connection, account: str, region: str, now: float) -> None:
    if store.get(conn, GROUP, account, region, DEFAULT_GROUP) is None:
        store.put(conn, GROUP, account, region, DEFAULT_GROUP, {
            "Name": DEFAULT_GROUP, "Arn": group_arn(account, region, DEFAULT_GROUP), "State": "ACTIVE",
            "CreationDate": now, "LastModificationDate": now})


def get_group(conn: Connection, account: str, region: str, name: str, now: float) -> dict[str, Any]:
    ensure_default_group(conn, account, region, now)
    group = store.get(conn, GROUP, account, region, name)
    if group is None:
        raise AwsError("ResourceNotFoundException", f"Schedule group {name} does not exist.", 404)
    return group


def create_group(conn: Connection, account: str, region: str, params: dict[str, Any], now: float) -> dict[str, Any]:
    ensure_default_group(conn, account, region, now)
    name = params["Name"]
    if store.get(conn, GROUP, account, region, name) is not None:
        raise AwsError("ConflictException", f"Schedule group {name} already exists.", 409)
    group = {"Name": name, "Arn": group_arn(account, region, name), "State": "ACTIVE",
             "CreationDate": now, "LastModificationDate": now}
    store.put(conn, GROUP, account, region, name, group)
    if params.get("Tags"):
        store.set_tags(conn, group["Arn"], params["Tags"])
    return group


def delete_group(conn: Connection, account: str, region: str, name: str, now: float) -> None:
    if name == DEFAULT_GROUP:
        raise AwsError("ValidationException", "Cannot delete the default schedule group.")
    group = get_group(conn, account, region, name, now)
    store.delete(conn, GROUP, account, region, name)
    store.remove_tags(conn, group["Arn"])
    store.delete_prefixed(conn, SCHEDULE, account, region, f"{name}/")


def _validate(params: dict[str, Any]) -> se.Expression:
    try:
        expression = se.parse(params["ScheduleExpression"], allow_at=True)
    except se.InvalidExpression:
        raise AwsError("ValidationException", f"Invalid Schedule Expression {params['ScheduleExpression']}.") from None
    zone = params.get("ScheduleExpressionTimezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AwsError("ValidationException", f"Invalid timezone {zone}.") from None
    window = params["FlexibleTimeWindow"]
    if window["Mode"] == "FLEXIBLE" and "MaximumWindowInMinutes" not in window:
        raise AwsError("ValidationException", "MaximumWindowInMinutes must be provided when the mode is FLEXIBLE.")
    if window["Mode"] == "OFF" and "MaximumWindowInMinutes" in window:
        raise AwsError("ValidationException", "MaximumWindowInMinutes must not be provided when the mode is OFF.")
    if params.get("StartDate") and params.get("EndDate") and params["StartDate"] >= params["EndDate"]:
        raise AwsError("ValidationException", "The StartDate must be before the EndDate.")
    return expression


def first_due(doc: dict[str, Any], after: float) -> float | None:
    """The schedule's next firing after `after`, within its start and end dates."""
    expression = se.parse(doc["ScheduleExpression"], allow_at=True)
    start = doc.get("StartDate")
    anchor = start if start is not None else doc["CreationDate"]
    after = max(after, start - 0.001) if start is not None else after
    due = se.next_firing(expression, after, anchor, doc.get("ScheduleExpressionTimezone") or "UTC")
    if due is None or (doc.get("EndDate") is not None and due > doc["EndDate"]):
        return None
    return due


def put_schedule(conn: Connection, account: str, region: str, params: dict[str, Any], now: float,
                 create: bool) -> dict[str, Any]:
    group = params.get("GroupName") or DEFAULT_GROUP
    get_group(conn, account, region, group, now)
    _validate(params)
    key = f"{group}/{params['Name']}"
    existing = store.get(conn, SCHEDULE, account, region, key)
    if create and existing is not None:
        raise AwsError("ConflictException", f"Schedule {params['Name']} already exists.", 409)
    if not create and existing is None:
        raise AwsError("ResourceNotFoundException", f"Schedule {params['Name']} does not exist.", 404)
    doc: dict[str, Any] = {
        "Name": params["Name"], "GroupName": group, "Arn": schedule_arn(account, region, group, params["Name"]),
        "ScheduleExpression": params["ScheduleExpression"], "FlexibleTimeWindow": params["FlexibleTimeWindow"],
        "Target": params["Target"], "State": params.get("State") or "ENABLED",
        "ActionAfterCompletion": params.get("ActionAfterCompletion") or "NONE",
        "CreationDate": existing["CreationDate"] if existing else now, "LastModificationDate": now,
        "_token": uuid.uuid4().hex,
    }
    for key_name in ("Description", "ScheduleExpressionTimezone", "StartDate", "EndDate", "KmsKeyArn"):
        if params.get(key_name) is not None:
            doc[key_name] = params[key_name]
    store.put(conn, SCHEDULE, account, region, key, doc)
    due = first_due(doc, now)
    if due is not None:
        timers.schedule(conn, FIRE_TIMER, {"account": account, "region": region, "key": key,
                                           "token": doc["_token"]}, due, now)
    return doc


def get_schedule(conn: Connection, account: str, region: str, group: str, name: str) -> dict[str, Any]:
    doc = store.get(conn, SCHEDULE, account, region, f"{group}/{name}")
    if doc is None:
        raise AwsError("ResourceNotFoundException", f"Schedule {name} does not exist.", 404)
    return doc


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def upcoming_firings(doc: dict[str, Any], after: float, count: int) -> list[float]:
    """The schedule's next `count` firings after `after` (fewer when it ends), for the console."""
    found: list[float] = []
    while len(found) < count:
        due = first_due(doc, found[-1] if found else after)
        if due is None:
            break
        found.append(due)
    return found

"""PutEvents: AWS's per-entry validation, the event envelope, and durable acceptance.

An event is acknowledged only after it is archived (where an archive matches) and one delivery
timer per matched target is committed in the same transaction: the timers table is the outbox.
Matching runs on the event loop against the in-memory index before the write; the write then
reads the matched rules' current targets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_documents import has_lone_surrogate
from eventyard.protocol.json_protocol import coral_validation_error
from eventyard.protocol.validation import INVALID_UNICODE, Violation
from eventyard.runtime import timers, tracing
from eventyard.runtime.ids import new_uuid
from eventyard.services.events import store
from eventyard.services.events.arns import bus_arn
from eventyard.services.events.index import BusKey, RoutingIndex
from eventyard.services.transform import iso_time
from eventyard.storage import Connection

DELIVERY_TIMER = "events.delivery"
MAX_REQUEST_BYTES = 256 * 1024


@dataclass
class Accepted:
    """One event on its way into a bus, with what matched it."""

    bus: BusKey
    event: dict[str, Any]
    trace: str | None
    rule_keys: set[str] = field(default_factory=set)
    archive_arns: list[str] = field(default_factory=list)
    only_rules: set[str] | None = None  # a replay's FilterArns
    only_rule_name: str | None = None  # a schedule fires one rule


def entry_size(entry: dict[str, Any]) -> int:
    """AWS's documented PutEvents entry size: Time counts 14 bytes, the strings their UTF-8 bytes."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key):
            size += len(str(entry[key]).encode("utf-8", "surrogatepass"))
    for resource in entry.get("Resources") or []:
        size += len(resource.encode())
    return size


def archived_size(event: dict[str, Any]) -> int:
    """An archived event's share of the archive's SizeBytes: the entry size (source, detail-type, detail,
    resources) with the time as its text. Inferred from sizes recorded against AWS (10 events of
    159 bytes each); the documentation gives only PutEvents' entry size, which counts Time as 14."""
    parts = [event.get("source", ""), event.get("detail-type", ""), json.dumps(event.get("detail", {})),
             event.get("time", ""), *event.get("resources", [])]
    return sum(len(str(part).encode("utf-8", "surrogatepass")) for part in parts)


_ENTRY_DETAIL = re.compile(r"entries\.\d+\.member\.detail")


_OAUTH_METHOD = re.compile(r"authParameters\.oAuthParameters\.httpMethod")
# Enum sets as EventBridge prints them (recorded against AWS), where its order is not the model's.
_RECORDED_ENUM_ORDER = {
    "[POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]": "[HEAD, POST, PATCH, DELETE, PUT, GET, OPTIONS]",
}
_PATTERN = "Member must satisfy regular expression pattern"


# How EventBridge's Java model prints a PutEvents entry in a message (recorded: more than 10 entries).
_ENTRY_FIELDS = (("time", "Time"), ("source", "Source"), ("resources", "Resources"), ("detailType", "DetailType"),
                 ("detail", "Detail"), ("eventBusName", "EventBusName"), ("traceHeader", "TraceHeader"),
                 ("kmsKeyIdentifier", None), ("internalMetadata", None))


def _java_entry(entry: Any) -> str:
    def text(value: Any) -> str:
        if value is None:
            return "null"
        return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)

    fields = ", ".join(f"{name}={text(entry.get(key) if key else None)}" for name, key in _ENTRY_FIELDS)
    return f"PutEventsRequestEntry({fields})"


def _as_recorded(violation: Violation) -> Violation:
    if violation.path == "entries" and isinstance(violation.value, list):
        rendered = "[" + ", ".join(_java_entry(e) for e in violation.value if isinstance(e, dict)) + "]"
        violation = replace(violation, value=rendered)
    for model_order, recorded in _RECORDED_ENUM_ORDER.items():
        if violation.constraint.endswith(model_order):
            return replace(violation, constraint=violation.constraint.replace(model_order, recorded))
    return violation


def violations_error(violations: list[Violation]) -> AwsError | None:
    """PutEvents judges each entry's Detail itself: one that is not a JSON object (even one holding a
    lone surrogate) fails only its own entry, with MalformedDetail, as AWS answers. An OAuth
    connection's HttpMethod is taken in any case (`put`). A member's pattern violation is reported
    before its length violation, and enum sets in EventBridge's order (both recorded against AWS)."""
    kept = [_as_recorded(v) for v in violations
            if not (v.constraint == INVALID_UNICODE and _ENTRY_DETAIL.fullmatch(v.path))
            and not (_OAUTH_METHOD.fullmatch(v.path) and str(v.value).upper() in ("GET", "POST", "PUT"))]
    order = {path: i for i, path in reversed(list(enumerate(v.path for v in kept)))}
    kept.sort(key=lambda v: (order[v.path], not v.constraint.startswith(_PATTERN)))
    return coral_validation_error(kept) if kept else None


def check_entry(entry: dict[str, Any]) -> tuple[str, str] | None:
    """The (ErrorCode, ErrorMessage) AWS reports for an invalid entry, or None."""
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return "InvalidArgument", f"Parameter {key} is not valid. Reason: {key} is a required argument."
    try:
        detail = None if has_lone_surrogate(entry["Detail"]) else json.loads(entry["Detail"])
    except (ValueError, RecursionError):
        detail = None
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    if str(entry["Source"]).startswith("aws."):
        return "NotAuthorizedForSourceException", "Not authorized for the source."
    return None


def envelope(entry: dict[str, Any], account: str, region: str, now: float) -> dict[str, Any]:
    when = entry.get("Time")
    return {
        "version": "0",
        "id": new_uuid(),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": iso_time(when if when is not None else now),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": json.loads(entry["Detail"]),
    }


def route(index: RoutingIndex, item: Accepted, archive: bool = True) -> None:
    """Match on the event loop (the Machine is lock-free for readers)."""
    item.rule_keys = index.match(item.bus, item.event)
    if archive:
        item.archive_arns = [a.arn for a in index.archives(item.bus) if a.pattern is None or a.pattern.matches(item.event)]


def commit(conn: Connection, items: list[Accepted], now: float) -> int:
    """Archive and enqueue one delivery per matched target. Returns how many deliveries were queued."""
    queued = 0
    for item in items:
        account, region, bus = item.bus
        text = None
        for arn in item.archive_arns:
            text = text or json.dumps(item.event)
            conn.execute("INSERT INTO events_archived (archive_arn, event_time, ingested_at, size, event)"
                         " VALUES (?, ?, ?, ?, ?)", (arn, now, now, archived_size(item.event), text))
        keys = sorted(item.rule_keys)
        if item.only_rule_name is not None:
            keys = [f"{bus}|{item.only_rule_name}"]
        # A traced event is a hop. EventBridge creates no segment of its own: targets get the header as it came.
        incoming = tracing.parse(item.trace)
        delivered: list[tuple[str, str]] = []
        for key in keys:
            rule = store.get(conn, "rule", account, region, key)
            if rule is None or rule.get("State") == "DISABLED":
                continue
            if item.only_rules is not None and rule["Arn"] not in item.only_rules:
                continue
            for target in rule.get("Targets", []):
                timers.schedule(conn, DELIVERY_TIMER, {
                    "account": account, "region": region, "bus": bus, "rule": rule["Name"],
                    "rule_arn": rule["Arn"], "target": target, "event": item.event, "ingested": now,
                    "trace": item.trace, "attempt": 1,
                }, now, now)
                delivered.append((rule["Arn"], target["Arn"]))
                queued += 1
        if incoming is not None:
            tracing.record(conn, tracing.Hop(
                incoming, tracing.new_segment(), now, "events", "PutEvents", bus_arn(account, region, bus),
                account, region, ref=item.event["id"], outcome=f"{len(delivered)} target(s)",
                detail={"targets": [{"rule": r, "target": t} for r, t in delivered]}))
    return queued

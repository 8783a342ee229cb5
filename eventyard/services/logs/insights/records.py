"""A log event as Logs Insights sees it: the system fields (@timestamp, @message, @logStream, @log,
@ingestionTime, @ptr), the fields it discovers in JSON events (nested keys joined by dots, list
items by index), and the fields of Lambda's START/END/REPORT lines (@type, @requestId, @duration,
@billedDuration, @memorySize, @maxMemoryUsed, @initDuration)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from eventyard.services.logs.insights.functions import Timestamp

MAX_DISCOVERED = 1000  # fields taken from one JSON event
_REPORT = re.compile(r"REPORT RequestId: (?P<id>\S+)\s+Duration: (?P<duration>[\d.]+) ms\s+Billed Duration: "
                     r"(?P<billed>[\d.]+) ms\s+Memory Size: (?P<memory>\d+) MB\s+Max Memory Used: (?P<used>\d+) MB"
                     r"(?:\s+Init Duration: (?P<init>[\d.]+) ms)?")
_START_END = re.compile(r"(?P<type>START|END) RequestId: (?P<id>\S+)")


def pointer(event_id: int) -> str:
    """@ptr: an opaque reference GetLogRecord resolves."""
    return base64.urlsafe_b64encode(f"ev:{event_id}".encode()).decode().rstrip("=")


def event_id_of(ptr: str) -> int | None:
    try:
        decoded = base64.urlsafe_b64decode(ptr + "=" * (-len(ptr) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    kind, _, number = decoded.partition(":")
    return int(number) if kind == "ev" and number.isdigit() else None


def record(event_id: int, timestamp: int, ingestion_time: int, message: str, stream: str, log: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    stripped = message.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(message)
        except ValueError:
            document = None
        if isinstance(document, dict):
            _flatten(document, "", fields)
    elif stripped.startswith(("REPORT ", "START ", "END ")):
        fields.update(_lambda_fields(stripped))
    fields.update({"@timestamp": Timestamp(timestamp), "@message": message, "@logStream": stream, "@log": log,
                   "@ingestionTime": Timestamp(ingestion_time), "@ptr": pointer(event_id)})
    return fields


def _flatten(value: Any, prefix: str, into: dict[str, Any]) -> None:
    if len(into) >= MAX_DISCOVERED:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _flatten(inner, f"{prefix}.{index}" if prefix else str(index), into)
    elif prefix:
        into[prefix] = value


def _lambda_fields(line: str) -> dict[str, Any]:
    report = _REPORT.match(line)
    if report is not None:
        out: dict[str, Any] = {"@type": "REPORT", "@requestId": report["id"], "@duration": float(report["duration"]),
                               "@billedDuration": float(report["billed"]),
                               "@memorySize": float(report["memory"]) * 1_000_000,
                               "@maxMemoryUsed": float(report["used"]) * 1_000_000}
        if report["init"]:
            out["@initDuration"] = float(report["init"])
        return out
    found = _START_END.match(line)
    return {"@type": found["type"], "@requestId": found["id"]} if found else {}

"""Tumbling windows for stream event source mappings (`TumblingWindowInSeconds`), the pure part:
which window a record belongs to, the fields AWS adds to the event, and what a response must hold.

AWS's rules reproduced here (Lambda developer guide, "Time windows" for Kinesis):
- Boundaries come from each record's approximate arrival timestamp; windows are fixed, back to back
  intervals of the configured length (aligned to the epoch, as AWS's example windows are).
- Every invocation of a window carries the window, the state the previous invocation returned (an
  empty object for the first), the shard id and the stream ARN; the function must answer with a
  `state` property, or the invocation counts as failed.
- When the window is over, one last invocation with `isFinalInvokeForWindow: true` hands over the
  final state; after it succeeds the state is dropped. A state over 1 MB ends the window early:
  that final invocation also has `isWindowTerminatedEarly: true` and the window goes on afresh.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

MAX_STATE_BYTES = 1024 * 1024  # "Your state can be a maximum of 1 MB per shard"


def window_start(arrival: float, seconds: int) -> float:
    return float(math.floor(arrival / seconds) * seconds)


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_fields(window: dict[str, Any], seconds: int, shard_id: str, source_arn: str, final: bool,
                 early: bool) -> dict[str, Any]:
    """The keys AWS's KinesisTimeWindowEvent has besides `Records`."""
    start = float(window["start"])
    return {
        "window": {"start": _iso(start), "end": _iso(start + seconds)},
        "state": window.get("state") or {},
        "shardId": shard_id,
        "eventSourceARN": source_arn,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": early,
    }


def returned_state(payload: bytes) -> dict[str, Any] | None:
    """The `state` a response carries; None when it has none (AWS: the invocation failed)."""
    try:
        document = json.loads(payload) if payload else None
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("state"), dict):
        return None
    return document["state"]


def too_big(state: dict[str, Any]) -> bool:
    return len(json.dumps(state, separators=(",", ":")).encode()) > MAX_STATE_BYTES

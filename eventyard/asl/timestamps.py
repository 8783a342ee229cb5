"""ISO-8601 timestamps as Step Functions accepts them (RFC 3339 profile: a `T`, an offset or `Z`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$"
)


def parse(text: object) -> datetime | None:
    """The instant `text` names, or None when it is not an RFC 3339 date-time."""
    if not isinstance(text, str):
        return None
    m = _RFC3339.match(text)
    if not m:
        return None
    frac = m.group(7) or ""
    iso = text[: m.start(7) if m.group(7) else m.start(8)]
    zone = m.group(8)
    zone = "+00:00" if zone in ("Z", "z") else zone
    micros = (frac[1:] + "000000")[:6] if frac else "000000"
    try:
        return datetime.fromisoformat(f"{iso}.{micros}{zone}")
    except ValueError:
        return None


def format_epoch(seconds: float) -> str:
    """Context-object timestamps: `2024-01-01T00:00:00.123Z` (millisecond precision, Zulu), rounded as
    the API rounds the same instant (an execution's StartTime equals its startDate)."""
    millis = round(seconds * 1000)
    moment = datetime.fromtimestamp(millis // 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"

"""Which events of a PutLogEvents batch CloudWatch Logs keeps: not older than 14 days nor than the
group's retention, not more than 2 hours ahead. The rest are skipped, not refused: the call succeeds
and `rejectedLogEventsInfo` names them by index (the batch is in chronological order, so the too-old
events are a prefix and the too-new ones a suffix)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DAY_MS = 86_400_000
MAX_AGE_MS = 14 * DAY_MS
MAX_AHEAD_MS = 2 * 3_600_000


@dataclass(frozen=True)
class Admission:
    start: int  # the first kept event's index
    end: int  # one past the last kept event's index
    rejected: dict[str, Any] = field(default_factory=dict)  # rejectedLogEventsInfo, empty when all are kept


def admit(stamps: list[int], now_ms: int, retention_days: int | None) -> Admission:
    too_old = sum(1 for stamp in stamps if stamp < now_ms - MAX_AGE_MS)
    expired = sum(1 for stamp in stamps if retention_days is not None and stamp < now_ms - retention_days * DAY_MS)
    too_new_start = next((i for i, stamp in enumerate(stamps) if stamp > now_ms + MAX_AHEAD_MS), len(stamps))
    rejected: dict[str, Any] = {}
    if too_old:
        rejected["tooOldLogEventEndIndex"] = too_old  # exclusive
    if expired:
        rejected["expiredLogEventEndIndex"] = expired
    if too_new_start < len(stamps):
        rejected["tooNewLogEventStartIndex"] = too_new_start  # inclusive
    start = max(too_old, expired)
    return Admission(start, max(start, too_new_start), rejected)

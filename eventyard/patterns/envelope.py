"""The event envelope TestEventPattern insists on before it will match anything.

AWS documents the mandatory fields of a test event as id, account, source, time, region,
resources and detail-type; recorded AWS behaviour accepts events without ``resources`` (and
without ``detail``) but rejects an event that is not a JSON object or lacks the others, always
with the same message.
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidEvent

REQUIRED_FIELDS = ("id", "account", "source", "time", "region", "detail-type")
MESSAGE = "Parameter Event is not valid."


def validate_test_event(event: Any) -> None:
    """Raise InvalidEvent unless ``event`` is an object carrying the mandatory envelope fields."""
    if not isinstance(event, dict):
        raise InvalidEvent(MESSAGE)
    for name in REQUIRED_FIELDS:
        if name not in event:
            raise InvalidEvent(MESSAGE)

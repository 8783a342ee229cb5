"""Entry points for the shared conformance runner (``run_cases.py --python-matcher``).

``matches`` behaves as the TestEventPattern API does: the pattern is compiled (invalid ones
raise InvalidPattern) and the event must be a JSON object carrying EventBridge's envelope
(otherwise InvalidEvent, "Parameter Event is not valid.").

``matches_library`` is the engine on its own, as a rule on a bus sees it: the event must be a
JSON object, but no envelope is required. The event-ruler case files record library behaviour on
bare events (their envelope-carrying variant, ``api_event``, is used only against a server), so
they are run through this one.
"""

from __future__ import annotations

import json

from .envelope import MESSAGE, validate_test_event
from .errors import InvalidEvent
from .eventbridge import compile_event_pattern


def matches(pattern_str: str, event_str: str) -> bool:
    pattern = compile_event_pattern(pattern_str)
    validate_test_event(_parse_event(event_str))
    return pattern.matches(json.loads(event_str))


def matches_library(pattern_str: str, event_str: str) -> bool:
    pattern = compile_event_pattern(pattern_str)
    event = _parse_event(event_str)
    if not isinstance(event, dict):
        raise InvalidEvent(MESSAGE)
    return pattern.matches(event)


def _parse_event(event_str: str) -> object:
    try:
        return json.loads(event_str)
    except ValueError:
        raise InvalidEvent(MESSAGE) from None

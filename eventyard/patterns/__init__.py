"""One pattern engine for EventBridge event patterns and SNS filter policies.

``compile_event_pattern`` / ``compile_filter_policy`` validate pattern text as AWS does and
return a ``Pattern``; a ``Machine`` holds many patterns and returns the ids of all that match an
event in one pass. See docs/patterns.md.
"""

from .envelope import validate_test_event
from .errors import InvalidEvent, InvalidPattern
from .eventbridge import compile_event_pattern
from .jsonparse import syntax_error
from .machine import Machine
from .model import Pattern
from .sns import compile_filter_policy, sns_attributes_to_event

__all__ = [
    "InvalidEvent",
    "InvalidPattern",
    "Machine",
    "Pattern",
    "compile_event_pattern",
    "compile_filter_policy",
    "sns_attributes_to_event",
    "syntax_error",
    "validate_test_event",
]

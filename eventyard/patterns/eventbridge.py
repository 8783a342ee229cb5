"""EventBridge event patterns (rules, archives, pipes, Lambda event filters)."""

from __future__ import annotations

from .compiler import EVENTBRIDGE, compile_with
from .model import Pattern


def compile_event_pattern(text: str) -> Pattern:
    """Compile EventBridge pattern JSON; raises InvalidPattern with EventBridge's reason."""
    return compile_with(text, EVENTBRIDGE)

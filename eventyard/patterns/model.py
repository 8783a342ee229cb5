"""The compiled form of a pattern: what both dialects compile into and both matchers read.

A pattern is a disjunction (``$or`` expanded) of *branches*; a branch is a conjunction of
*conditions*, one per flattened field path, in a canonical order; a condition is satisfied by one
event leaf at that path matching any of its *matchers*, or — when it allows absence
(``exists: false``) — by the path having no leaf at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conditions import (
    AnythingBut,
    AnythingButIgnoreCase,
    AnythingButPrefix,
    AnythingButSuffix,
    AnythingButWildcard,
    Branch,
    Cidr,
    Condition,
    EqualsIgnoreCase,
    Exact,
    Exists,
    Matcher,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
)
from .machine import Machine


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern: it matches an event when any branch does."""

    branches: tuple[Branch, ...]
    source: str = field(default="", compare=False)

    def matches(self, event: Any) -> bool:
        """Whether ``event`` (parsed JSON) matches; uses a one-pattern Machine built on first use."""
        machine = self.__dict__.get("_machine")
        if machine is None:
            machine = Machine()
            machine.add(0, self)
            object.__setattr__(self, "_machine", machine)
        return bool(machine.match(event))


__all__ = [
    "AnythingBut", "AnythingButIgnoreCase", "AnythingButPrefix", "AnythingButSuffix", "AnythingButWildcard",
    "Branch", "Cidr", "Condition", "EqualsIgnoreCase", "Exact", "Exists", "Matcher", "Numeric", "Pattern",
    "Prefix", "Suffix", "Wildcard",
]

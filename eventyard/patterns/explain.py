"""Why a pattern does not match an event: for each branch of the pattern, the first field whose
condition no value of the event meets (the console's "test an event" box says this per rule).

Written like the reference matcher (one pattern, obviously right), and checked against it: a
pattern matches exactly when `explain` finds no failing field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .flatten import NO_MEMBERSHIP, flatten, merge
from .model import (
    AnythingBut,
    AnythingButIgnoreCase,
    AnythingButPrefix,
    AnythingButSuffix,
    AnythingButWildcard,
    Cidr,
    Condition,
    EqualsIgnoreCase,
    Exact,
    Exists,
    Matcher,
    Numeric,
    Pattern,
    Prefix,
    Suffix,
    Wildcard,
)
from .reference import reference_matches


@dataclass(frozen=True)
class FieldMismatch:
    path: str  # the flattened field ("detail.status")
    expected: str  # what the pattern asks of it, in pattern words
    found: list[Any]  # the event's values at that path (empty: the field is absent)

    @property
    def reason(self) -> str:
        if not self.found:
            return f"{self.path} is absent; the pattern wants {self.expected}"
        shown = ", ".join(_json(v) for v in self.found[:5])
        return f"{self.path} is {shown}; the pattern wants {self.expected}"


def explain(pattern: Pattern, event: Any) -> list[FieldMismatch]:
    """[] when the pattern matches; else, per branch, the field that stops it."""
    if reference_matches(pattern, event):
        return []
    leaves = flatten(event)
    reasons = []
    for branch in pattern.branches:
        reason = _first_failing(branch, leaves)
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    return reasons


def _first_failing(branch: tuple[Condition, ...], leaves: dict[str, list[tuple[Any, Any]]]) -> FieldMismatch | None:
    for condition in branch:
        found = leaves.get(condition.path, [])
        values = [value for value, _ in found]
        if condition.allow_absent and not found:
            continue
        if not any(m.test(value) for m in condition.matchers for value in values):
            return FieldMismatch(condition.path, describe(condition), values)
    # Each field matches somewhere, but not all within one element of an array.
    paths = [c.path for c in branch]
    if _all_in_one_element(branch, leaves):
        return None
    return FieldMismatch(", ".join(paths), "these fields to match within the same array element", [])


def _all_in_one_element(branch: tuple[Condition, ...], leaves: dict[str, list[tuple[Any, Any]]]) -> bool:
    def search(i: int, acc: Any) -> bool:
        if i == len(branch):
            return True
        condition = branch[i]
        for value, member in leaves.get(condition.path, []):
            merged = merge(acc, member)
            if merged is not None and any(m.test(value) for m in condition.matchers) and search(i + 1, merged):
                return True
        return condition.allow_absent and search(i + 1, acc)

    return search(0, NO_MEMBERSHIP)


def describe(condition: Condition) -> str:
    words = sorted(_matcher_words(m) for m in condition.matchers)
    text = " or ".join(words) if words else "nothing"
    return f"{text} (or absent)" if condition.allow_absent else text


def _matcher_words(matcher: Matcher) -> str:
    if isinstance(matcher, Exact):
        return _json(_key_value(matcher.key))
    if isinstance(matcher, Prefix | Suffix):
        kind = "prefix" if isinstance(matcher, Prefix) else "suffix"
        return f"{kind} {_json(matcher.text)}" + (" (ignoring case)" if matcher.ignore_case else "")
    if isinstance(matcher, EqualsIgnoreCase):
        return f"{_json(matcher.text)} ignoring case"
    if isinstance(matcher, Wildcard):
        return f"wildcard {_json(matcher.pattern)}"
    if isinstance(matcher, Numeric):
        return _numeric_words(matcher)
    if isinstance(matcher, Cidr):
        return "an IP address in the given CIDR block"
    if isinstance(matcher, Exists):
        return "any value (exists)"
    if isinstance(matcher, AnythingBut | AnythingButIgnoreCase):
        items = matcher.keys if isinstance(matcher, AnythingBut) else matcher.texts
        return "anything but " + ", ".join(sorted(_json(_key_value(k)) for k in items))
    if isinstance(matcher, AnythingButPrefix | AnythingButSuffix):
        kind = "prefix" if isinstance(matcher, AnythingButPrefix) else "suffix"
        return f"anything but {kind} " + ", ".join(sorted(_json(t) for t in matcher.texts))
    if isinstance(matcher, AnythingButWildcard):
        return "anything but wildcard " + ", ".join(_json(p) for p in matcher.patterns)
    return type(matcher).__name__


def _numeric_words(matcher: Numeric) -> str:
    parts = []
    if matcher.low != float("-inf"):
        parts.append(f"{'>=' if matcher.low_inclusive else '>'} {matcher.low:g}")
    if matcher.high != float("inf"):
        parts.append(f"{'<=' if matcher.high_inclusive else '<'} {matcher.high:g}")
    if matcher.low == matcher.high and matcher.low_inclusive and matcher.high_inclusive:
        return f"a number = {matcher.low:g}"
    return "a number " + " and ".join(parts) if parts else "a number"


def _key_value(key: Any) -> Any:
    """The value behind an exact-match key (values.exact_key tags non-strings)."""
    if isinstance(key, tuple):
        if key == ("null",):
            return None
        if key[0] == "num" and float(key[1]).is_integer():
            return int(key[1])
        return key[1]
    return key


def _json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)

"""Choice rules in JSONPath states: every comparison operator, its `...Path` form, And/Or/Not.

A comparison whose value has the wrong type is simply false, as in AWS; a `Variable` that selects
nothing is a States.Runtime failure, except for `IsPresent`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from eventyard.asl import timestamps
from eventyard.asl.errors import PathNotFound, StatesError

Lookup = Callable[[str], Any]  # a path ($.x, $$.x, $var) -> value, raising PathNotFound

_KINDS = ("String", "Numeric", "Boolean", "Timestamp")
_OPS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
COMPARISONS = {f"{k}{op}" for k in _KINDS for op in _OPS if not (k == "Boolean" and op != "Equals")} | {"StringMatches"}
TYPE_TESTS = {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
ALL_OPERATORS = COMPARISONS | {f"{c}Path" for c in COMPARISONS if c != "StringMatches"} | TYPE_TESTS


def operator_of(rule: dict[str, Any]) -> str | None:
    for key in rule:
        if key in ALL_OPERATORS:
            return key
    return None


def evaluate(rule: dict[str, Any], lookup: Lookup) -> bool:
    if "And" in rule:
        return all(evaluate(r, lookup) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate(r, lookup) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate(rule["Not"], lookup)
    op = operator_of(rule)
    variable = rule.get("Variable")
    if op is None or not isinstance(variable, str):
        raise StatesError("States.Runtime", "Invalid choice rule")
    try:
        value = lookup(variable)
    except PathNotFound:
        if op == "IsPresent":
            return rule[op] is False
        raise StatesError(
            "States.Runtime",
            f"Invalid path '{variable}': The choice state's condition path references an invalid value.",
        ) from None
    if op in TYPE_TESTS:
        return _type_test(op, value) == rule[op]
    expected = rule[op]
    if op.endswith("Path"):
        op = op[:-4]
        try:
            expected = lookup(expected)
        except PathNotFound:
            raise StatesError(
                "States.Runtime",
                f"Invalid path '{rule[op + 'Path']}': The choice state's condition path references an invalid value.",
            ) from None
    return compare(op, value, expected)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_test(op: str, value: Any) -> bool:
    if op == "IsNull":
        return value is None
    if op == "IsPresent":
        return True
    if op == "IsNumeric":
        return _is_number(value)
    if op == "IsString":
        return isinstance(value, str)
    if op == "IsBoolean":
        return isinstance(value, bool)
    if op == "IsTimestamp":
        return timestamps.parse(value) is not None
    raise AssertionError(op)


def _order(op: str, a: Any, b: Any) -> bool:
    if op.endswith("GreaterThanEquals"):
        return a >= b
    if op.endswith("LessThanEquals"):
        return a <= b
    if op.endswith("Equals"):
        return a == b
    if op.endswith("GreaterThan"):
        return a > b
    if op.endswith("LessThan"):
        return a < b
    raise AssertionError(op)


def compare(op: str, value: Any, expected: Any) -> bool:
    if op == "StringMatches":
        return isinstance(value, str) and isinstance(expected, str) and _string_matches(value, expected)
    if op.startswith("String"):
        return isinstance(value, str) and isinstance(expected, str) and _order(op, value, expected)
    if op.startswith("Numeric"):
        return _is_number(value) and _is_number(expected) and _order(op, value, expected)
    if op.startswith("Boolean"):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    if op.startswith("Timestamp"):
        a, b = timestamps.parse(value), timestamps.parse(expected)
        return a is not None and b is not None and _order(op, a, b)
    raise AssertionError(op)


def _string_matches(value: str, pattern: str) -> bool:
    # Only `*` is special; `\*` and `\\` are literal (fnmatch would also treat ?, [ specially).
    parts, i, buf = [], 0, []
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            buf.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            parts.append("".join(buf))
            parts.append(".*")
            buf = []
        else:
            buf.append(re.escape(ch))
        i += 1
    parts.append("".join(buf))
    return re.fullmatch("".join(parts), value, re.S) is not None


__all__ = ["evaluate", "compare", "operator_of", "fnmatch"]

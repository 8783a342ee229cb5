"""SNS subscription filter policies, in both scopes, and the attribute document they match.

Differences from EventBridge (AWS "Amazon SNS message filtering" pages): the MessageAttributes
scope takes no nesting; a policy may have at most 5 keys and 150 value combinations
(``$or`` branches add up, values within a branch multiply) and be at most 256 KB; numbers lie in
[-1e9, 1e9]; ``wildcard`` and ``exactly`` are EventBridge-only.
"""

from __future__ import annotations

import json
from typing import Any

from .compiler import ALL_OPERATORS, Dialect, _is_or, compile_with
from .errors import InvalidPattern
from .jsonparse import compact_json, parse_json, syntax_error
from .model import Pattern

MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_POLICY_BYTES = 256 * 1024
NUMBER_LIMIT = 1e9

_OPERATORS = ALL_OPERATORS - {"wildcard", "exactly"}
# Recorded against AWS: SNS's anything-but takes only `prefix` ("Unsupported anything-but pattern: suffix").
DIALECT = Dialect("sns", _OPERATORS, frozenset({"prefix"}), number_limit=NUMBER_LIMIT, legacy_anything_but=True)
NESTED_IN_ATTRIBUTES = "Filter policy scope MessageAttributes does not support nested filter policy"


def compile_filter_policy(text: str, scope: str = "MessageAttributes") -> Pattern:
    """Compile an SNS filter policy; InvalidPattern.message is the text after
    "Invalid parameter: FilterPolicy: "."""
    if scope not in ("MessageAttributes", "MessageBody"):
        raise ValueError(f"unknown FilterPolicyScope {scope!r}")
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise InvalidPattern("Filter policy is too long", dialect="sns")
    # SNS reads the policy as JSON first (a syntax error names no source), then compiles its compact
    # form: AWS's messages quote the policy without the spaces the client sent.
    problem = syntax_error(text)
    if problem is not None:
        raise InvalidPattern(f"failed to parse JSON. {problem}", dialect="sns")
    document = parse_json(text)
    pattern = compile_with(compact_json(document), DIALECT)
    # Checked after the parser accepted the policy: a mistake inside a nested object is reported first.
    if scope == "MessageAttributes" and _nested(document):
        raise InvalidPattern(NESTED_IN_ATTRIBUTES, dialect="sns-scope")
    if any(len({c.path for c in branch}) > MAX_KEYS for branch in pattern.branches):
        raise InvalidPattern(f"Filter policy can not have more than {MAX_KEYS} keys", dialect="sns")
    if _combinations(document) > MAX_COMBINATIONS:
        raise InvalidPattern("Filter policy is too complex", dialect="sns")
    return pattern


def _nested(obj: dict[str, Any]) -> bool:
    for key, value in obj.items():
        if key == "$or" and _is_or(value):
            if any(_nested(branch) for branch in value):
                return True
        elif isinstance(value, dict):
            return True
    return False


def _combinations(obj: dict[str, Any], depth: int = 1) -> int:
    """Values multiply across keys of one object; ``$or`` branches add up. A nested key counts
    its depth as a factor too (AWS's worked example: 3 x 4 x 2 x 3 x 1 x 3 = 216 for arrays of 4, 3
    and 3 values three, two and one levels deep)."""
    total = 1
    for key, value in obj.items():
        if key == "$or" and _is_or(value):
            total *= sum(_combinations(branch, depth) for branch in value)
        elif isinstance(value, dict):
            total *= _combinations(value, depth + 1)
        elif isinstance(value, list):
            total *= depth * max(len(value), 1)
    return total


def sns_attributes_to_event(message_attributes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The document a MessageAttributes-scope policy is matched against.

    String values stay strings; Number values become numbers (compared numerically);
    String.Array is parsed from its JSON and matched element by element; Binary is ignored,
    as SNS ignores it when filtering.
    """
    document: dict[str, Any] = {}
    for name, attribute in message_attributes.items():
        data_type = str(attribute.get("DataType", "String"))
        text = attribute.get("StringValue")
        base = data_type.split(".", 1)[0]
        if data_type == "String.Array":
            try:
                values = json.loads(text) if isinstance(text, str) else None
            except ValueError:
                values = None
            if isinstance(values, list):
                document[name] = [v for v in values if not isinstance(v, (dict, list))]
            elif text is not None:
                document[name] = text
        elif base == "Number":
            number = _number(text)
            if number is not None:
                document[name] = number
        elif base == "String" and text is not None:
            document[name] = text
    return document


def _number(text: Any) -> int | float | None:
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text.strip())
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

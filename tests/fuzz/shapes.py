"""Hypothesis strategies for an operation's input, generated from its botocore shapes.

Values have the shape's types (so botocore's own serializers put them on the wire as an SDK would)
but anything for content: in and out of the model's ranges and lengths, enum values and near misses,
the identifiers of resources that exist on the server under test (so requests reach the domain code,
not only "not found"), and strings known to break naive code: lone surrogates, JSON that is not an
object, JSON nested thousands deep, control characters, very long text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

DEEP_JSON = "[" * 3000 + "]" * 3000
NASTY_STRINGS = [
    "", " ", "\ud800", "a\udfffb", '{"a": "\ud83d"}', "null", "-1", "NaN", "Infinity", "[]", "{}", "true",
    DEEP_JSON, '{"a":' * 300 + "1" + "}" * 300, "\x00", "\r\n", "<xml>&amp;</xml>", "%00%ff", "../../etc/passwd",
    "a" * 70_000, "\u202e", "\U0001f600", "arn:aws:sqs:us-east-1:000000000000:", "arn:", "*", "$.a", "{{x}}",
    '{"Type": "Pass", "End": true}', '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}',
    '{"source": [{"prefix": ""}]}', "cron(* * * * ? *)", "rate(1 minute)", "at(2026-01-01T00:00:00)",
]
# Members that make the server wait when they are honoured: keep their values short.
_WAITS = {"WaitTimeSeconds": [-1, 0, 1, 21], "waitTimeSeconds": [0]}
MAX_DEPTH = 4


def input_strategy(shape: Shape | None, identifiers: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    if shape is None:
        return st.just({})
    return _structure(shape, identifiers, 0)


def _value(shape: Shape, name: str, identifiers: list[str], depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if name in _WAITS:
        return st.sampled_from(_WAITS[name])
    if kind == "structure":
        return _structure(shape, identifiers, depth + 1)
    if kind == "list":
        if depth >= MAX_DEPTH:
            return st.just([])
        return st.lists(_value(shape.member, name, identifiers, depth + 1), max_size=3)
    if kind == "map":
        if depth >= MAX_DEPTH:
            return st.just({})
        return st.dictionaries(_string(shape.key, identifiers), _value(shape.value, name, identifiers, depth + 1),
                               max_size=3)
    if kind == "string":
        return _string(shape, identifiers)
    if kind in {"integer", "long"}:
        return _integer(shape)
    if kind == "boolean":
        return st.booleans()
    if kind in {"float", "double"}:
        return st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -1.0, 1e308])
    if kind == "blob":
        return st.binary(max_size=64) | st.sampled_from([b"", b"\x00" * 1000, b"PK\x05\x06" + b"\x00" * 18])
    if kind == "timestamp":
        return st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1),
                            timezones=st.just(dt.UTC))
    return st.none()


def _structure(shape: Shape, identifiers: list[str], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    members = shape.members
    required = set(shape.required_members)
    if depth > MAX_DEPTH:
        return st.just({})
    mandatory = {n: _value(m, n, identifiers, depth) for n, m in members.items() if n in required}
    optional = {n: _value(m, n, identifiers, depth) for n, m in members.items() if n not in required
                and not m.metadata.get("eventstream")}
    return st.fixed_dictionaries(mandatory, optional=optional)


def _string(shape: Shape, identifiers: list[str]) -> st.SearchStrategy[str]:
    meta = shape.metadata
    low, high = int(meta.get("min", 0)), int(meta.get("max", 64))
    choices: list[st.SearchStrategy[str]] = [
        st.text(min_size=min(low, 64), max_size=max(min(high, 64), min(low, 64))),
        st.sampled_from(NASTY_STRINGS),
    ]
    if identifiers:
        choices.append(st.sampled_from(identifiers))
    enum = list(meta.get("enum") or getattr(shape, "enum", None) or [])
    if enum:
        choices.append(st.sampled_from(enum))
        choices.append(st.sampled_from([enum[0].lower(), enum[0] + "x"]))
    pattern = meta.get("pattern")
    if pattern and _python_regex(pattern):
        choices.append(st.from_regex(pattern, fullmatch=True).filter(lambda s: len(s) <= 200))
    return st.one_of(choices)


def _python_regex(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return "\\p" not in pattern and len(pattern) < 200


def _integer(shape: Shape) -> st.SearchStrategy[int]:
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    near = [v for bound in (low, high) if bound is not None for v in (int(bound) - 1, int(bound), int(bound) + 1)]
    options = [st.integers(-5, 1000), st.sampled_from([0, -1, 2**31, 2**63 - 1, -(2**63)])]
    if near:
        options.append(st.sampled_from(near))
    return st.one_of(options)

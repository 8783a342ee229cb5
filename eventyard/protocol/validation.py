"""Input validation against a model's constraints, reported as AWS's front end reports them.

AWS's JSON services answer `1 validation error detected: Value 'x' at 'streamName' failed to
satisfy constraint: Member must ...`; services that speak another dialect (SQS, SNS) turn the same
violations into their own codes through `Violation`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from botocore.model import Shape

from eventyard.protocol.errors import AwsError


@dataclass(frozen=True)
class Violation:
    path: str  # e.g. "records.1.member.data"
    member: str  # the member's own name as the model spells it, e.g. "QueueName"
    value: Any
    constraint: str  # "Member must not be null", ...

    @property
    def missing(self) -> bool:
        return self.value is None

    def describe(self) -> str:
        return f"Value {_render(self.value)} at '{self.path}' failed to satisfy constraint: {self.constraint}"


def coral_message(violations: list[Violation]) -> str:
    count = len(violations)
    head = f"{count} validation error{'s' if count > 1 else ''} detected: "
    return head + "; ".join(v.describe() for v in violations)


def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return "java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]".format(len(value))
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


@lru_cache(maxsize=4096)
def _compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # a Java-only construct: the server does not guess at it
        return None


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def validate(shape: Shape, value: Any, path: str = "", member: str = "") -> list[Violation]:
    """Every violation in `value` (already converted to Python types) against `shape`."""
    out: list[Violation] = []
    _check(shape, value, path, member, out)
    return out


def _check(shape: Shape, value: Any, path: str, member: str, out: list[Violation]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return
        for name in shape.required_members:
            if value.get(name) is None:
                out.append(Violation(_join(path, name), name, None, "Member must not be null"))
        for name, member_shape in shape.members.items():
            if value.get(name) is not None:
                _check(member_shape, value[name], _join(path, name), name, out)
        return
    if kind == "list":
        if not isinstance(value, list):
            return
        _check_size(meta, len(value), value, path, member, out, "length")
        for i, item in enumerate(value, 1):
            _check(shape.member, item, f"{path}.{i}.member", member, out)
        return
    if kind == "map":
        if not isinstance(value, dict):
            return
        _check_size(meta, len(value), value, path, member, out, "length")
        for key, item in value.items():
            _check(shape.key, key, f"{path}.{key}.key", member, out)
            _check(shape.value, item, f"{path}.{key}.member", member, out)
        return
    if kind == "string":
        if not isinstance(value, str):
            return
        _check_size(meta, len(value), value, path, member, out, "length")
        enum = meta.get("enum") if isinstance(meta, dict) else None
        enum = enum or getattr(shape, "enum", None)
        if enum and value not in enum:
            out.append(Violation(path, member, value, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
        pattern = meta.get("pattern")
        if pattern:
            compiled = _compiled_pattern(pattern)
            if compiled is not None and not compiled.fullmatch(value):
                out.append(
                    Violation(path, member, value, f"Member must satisfy regular expression pattern: {pattern}")
                )
        return
    if kind == "blob" and isinstance(value, bytes):
        _check_size(meta, len(value), value, path, member, out, "length")
        return
    if kind in {"integer", "long", "float", "double"} and isinstance(value, (int, float)):
        _check_size(meta, value, value, path, member, out, "value")


def _check_size(meta: dict[str, Any], size: float, value: Any, path: str, member: str,
                out: list[Violation], noun: str) -> None:
    low, high = meta.get("min"), meta.get("max")
    if low is not None and size < low:
        out.append(Violation(path, member, value, f"Member must have {noun} greater than or equal to {low}"))
    elif high is not None and size > high:
        out.append(Violation(path, member, value, f"Member must have {noun} less than or equal to {high}"))


def _join(path: str, name: str) -> str:
    name = _lower_first(name)
    return f"{path}.{name}" if path else name


# Turns violations into the service's error; None accepts them (the domain checks those itself).
ViolationHandler = Callable[[list[Violation]], AwsError | None]


def enforce(shape: Shape, params: Any, on_violations: ViolationHandler) -> None:
    """Validate parsed input and raise the service's error for it, as every protocol must."""
    violations = validate(shape, params)
    error = on_violations(violations) if violations else None
    if error is not None:
        raise error

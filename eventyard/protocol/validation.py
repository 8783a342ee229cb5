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
from eventyard.protocol.json_documents import has_lone_surrogate, printable


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
    _validator(shape)(value, path, member, out)
    return out


# A shape's checks are compiled once into a closure: every request walks its input, so reading the
# model's metadata again for each value would dominate small requests.
Check = Callable[[Any, str, str, list[Violation]], None]
_validators: dict[int, tuple[Shape, Check]] = {}


def _validator(shape: Shape) -> Check:
    cached = _validators.get(id(shape))
    if cached is not None and cached[0] is shape:
        return cached[1]
    # A recursive shape meets itself while it compiles: it gets a forwarder to the finished check.
    finished: list[Check] = []
    _validators[id(shape)] = (shape, lambda value, path, member, out: finished[0](value, path, member, out))
    check = _compile(shape)
    finished.append(check)
    _validators[id(shape)] = (shape, check)  # the shape is kept, so its id stays its own
    return check


def _nothing(value: Any, path: str, member: str, out: list[Violation]) -> None:
    return None


def _compile(shape: Shape) -> Check:
    kind = shape.type_name
    if kind == "structure":
        return _compile_structure(shape)
    if kind == "list":
        return _compile_list(shape)
    if kind == "map":
        return _compile_map(shape)
    if kind == "string":
        return _compile_string(shape)
    if kind == "blob":
        return _compile_size(shape.metadata, "length", bytes, len)
    if kind in {"integer", "long", "float", "double"}:
        return _compile_size(shape.metadata, "value", (int, float), lambda v: v)
    return _nothing


def _compile_structure(shape: Shape) -> Check:
    required = tuple(shape.required_members)
    compiled = [(name, _lower_first(name), _validator(member_shape)) for name, member_shape in shape.members.items()]
    # Only members with something to check are visited; the others cost nothing per request.
    ordered = [entry for entry in compiled if entry[2] is not _nothing]
    by_name = {name: (lowered, member_check) for name, lowered, member_check in ordered}
    if not required and not ordered:
        return _nothing

    def check_in_model_order(value: dict[str, Any], path: str, out: list[Violation]) -> None:
        for name, lowered, member_check in ordered:
            item = value.get(name)
            if item is not None:
                member_check(item, f"{path}.{lowered}" if path else lowered, name, out)

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if not isinstance(value, dict):
            return
        for name in required:
            if value.get(name) is None:
                out.append(Violation(_join(path, name), name, None, "Member must not be null"))
        if not by_name:
            return
        found = len(out)
        # The request's own members (usually few), in its order; should any fail, they are checked
        # again in the model's order, which is the order AWS reports violations in.
        for name, item in value.items():
            entry = by_name.get(name)
            if entry is not None and item is not None:
                entry[1](item, f"{path}.{entry[0]}" if path else entry[0], name, out)
        if len(out) > found:
            del out[found:]
            check_in_model_order(value, path, out)

    return check


def _compile_list(shape: Shape) -> Check:
    size = _compile_size(shape.metadata, "length", list, len)
    item_shape = shape.member
    if size is _nothing and _validator(item_shape) is _nothing:
        return _nothing

    item_check = _validator(item_shape)

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if not isinstance(value, list):
            return
        size(value, path, member, out)
        if item_check is not _nothing:
            for i, item in enumerate(value, 1):
                item_check(item, f"{path}.{i}.member", member, out)

    return check


def _compile_map(shape: Shape) -> Check:
    size = _compile_size(shape.metadata, "length", dict, len)
    key_check, value_check = _validator(shape.key), _validator(shape.value)
    if size is _nothing and key_check is _nothing and value_check is _nothing:
        return _nothing

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if not isinstance(value, dict):
            return
        size(value, path, member, out)
        for key, item in value.items():
            key_check(key, f"{path}.{key}.key", member, out)
            value_check(item, f"{path}.{key}.member", member, out)

    return check


def _compile_string(shape: Shape) -> Check:
    meta = shape.metadata
    size = _compile_size(meta, "length", str, len)
    enum: list[str] = list(meta.get("enum") or getattr(shape, "enum", None) or [])
    allowed = frozenset(enum) if enum else None
    pattern = meta.get("pattern")
    compiled = _compiled_pattern(pattern) if pattern else None
    if allowed is None and compiled is None and size is _nothing:
        return _nothing

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if not isinstance(value, str):
            return
        size(value, path, member, out)
        if allowed is not None and value not in allowed:
            out.append(Violation(path, member, value, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
        if compiled is not None and not compiled.fullmatch(value):
            out.append(Violation(path, member, value, f"Member must satisfy regular expression pattern: {pattern}"))

    return check


def _compile_size(meta: dict[str, Any], noun: str, types: Any, measure: Callable[[Any], float]) -> Check:
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return _nothing

    def check(value: Any, path: str, member: str, out: list[Violation]) -> None:
        if not isinstance(value, types) or isinstance(value, bool):
            return
        size = measure(value)
        if low is not None and size < low:
            out.append(Violation(path, member, value, f"Member must have {noun} greater than or equal to {low}"))
        elif high is not None and size > high:
            out.append(Violation(path, member, value, f"Member must have {noun} less than or equal to {high}"))

    return check


def _join(path: str, name: str) -> str:
    name = _lower_first(name)
    return f"{path}.{name}" if path else name


# Turns violations into the service's error; None accepts them (the domain checks those itself).
ViolationHandler = Callable[[list[Violation]], AwsError | None]


def enforce(shape: Shape, params: Any, on_violations: ViolationHandler, check_unicode: bool = False) -> None:
    """Validate parsed input and raise the service's error for it, as every protocol must.

    `check_unicode`: also refuse strings holding a lone UTF-16 surrogate (a JSON body may escape one);
    no AWS string can hold one, and nothing downstream could store or encode it.
    """
    violations = validate(shape, params)
    if check_unicode:
        _invalid_unicode(shape, params, "", "", violations)
    error = on_violations(violations) if violations else None
    if error is not None:
        raise error


INVALID_UNICODE = "Member must contain only valid Unicode characters"


def _invalid_unicode(shape: Shape, value: Any, path: str, member: str, out: list[Violation]) -> None:
    kind = shape.type_name
    if kind == "string" and isinstance(value, str):
        if has_lone_surrogate(value):
            out.append(Violation(path, member, printable(value), INVALID_UNICODE))
    elif kind == "structure" and isinstance(value, dict):
        for name, member_shape in shape.members.items():
            if value.get(name) is not None:
                _invalid_unicode(member_shape, value[name], _join(path, name), name, out)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value, 1):
            _invalid_unicode(shape.member, item, f"{path}.{i}.member", member, out)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and has_lone_surrogate(key):
                out.append(Violation(f"{path}.{printable(key)}.key", member, printable(key), INVALID_UNICODE))
            else:
                _invalid_unicode(shape.value, item, f"{path}.{key}.member", member, out)

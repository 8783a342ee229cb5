"""Lambda's validation wording: the front end's messages, with enum sets printed in the order Lambda
prints them (recorded against AWS) where that is not the model's order."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from botocore.model import Shape

from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import coral_validation_error
from eventyard.protocol.validation import Violation
from eventyard.services.lambda_.names import RESOURCE_PATTERN
from eventyard.services.lambda_.runtimes import CREATABLE, KNOWN

_RECORDED_ENUM_ORDER = {
    "[BUFFERED, RESPONSE_STREAM]": "[RESPONSE_STREAM, BUFFERED]",  # InvokeMode
    "[TRIM_HORIZON, LATEST, AT_TIMESTAMP]": "[LATEST, AT_TIMESTAMP, TRIM_HORIZON]",  # StartingPosition
    "[Allow, Terminate]": "[Terminate, Allow]",  # RecursiveLoop
}


def _as_recorded(violation: Violation) -> Violation:
    if violation.path == "compatibleRuntime" and violation.constraint.startswith(_ENUM):
        return replace(violation, constraint=f"{_ENUM}: [{', '.join(KNOWN)}]")
    if isinstance(violation.value, int | float) and not isinstance(violation.value, bool):
        violation = replace(violation, value=str(violation.value))  # Lambda quotes the numbers it prints
    if violation.path == "resource" and violation.constraint.startswith(_PATTERN):
        # Lambda prints the resource pattern it had when recorded, not the SDK model's newer one
        return replace(violation, constraint=f"{_PATTERN}: {RESOURCE_PATTERN}")
    if violation.constraint.startswith(f"{_PATTERN}: "):
        return replace(violation, constraint=f"{_PATTERN}: {_unwrapped(violation.constraint[len(_PATTERN) + 2:])}")
    for model_order, recorded in _RECORDED_ENUM_ORDER.items():
        if violation.constraint.endswith(model_order):
            return replace(violation, constraint=violation.constraint.replace(model_order, recorded))
    return violation


def on_violations(violations: list[Violation]) -> AwsError | None:
    """The front end's error, less Runtime's enum: Lambda judges the runtime itself (runtimes.py)."""
    kept = [_as_recorded(v) for v in violations if not (v.path == "runtime" and v.constraint.startswith(_ENUM))]
    return coral_validation_error(kept) if kept else None


_ENUM = "Member must satisfy enum value set"
_PATTERN = "Member must satisfy regular expression pattern"


def untyped(code: str, message: str, status: int = 400) -> AwsError:
    """An error AWS answers without the `Type` member its shape has (recorded for some of Lambda's)."""
    error = AwsError(code, message, status)
    error.fields = {"Type": None}  # type: ignore[attr-defined]
    return error


_ENTRY = re.compile(r"(?P<container>.+)\.(?P<entry>[^.]+)\.(?P<part>member|key)")


def in_context(shape: Shape, params: dict[str, Any]) -> Callable[[list[Violation]], AwsError | None]:
    """The violation handler for one request: a bad list member or map entry is reported at its list
    or map, which Lambda prints whole, with every constraint its members must meet."""
    return lambda violations: on_violations(_grouped(shape, params, violations))


def _grouped(shape: Shape, params: dict[str, Any], violations: list[Violation]) -> list[Violation]:
    out: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    for violation in violations:
        match = _ENTRY.fullmatch(violation.path)
        found = _locate(shape, params, match.group("container")) if match else None
        if match is None or found is None:
            if isinstance(violation.value, list):  # Lambda quotes a list it prints
                violation = replace(violation, value=_list_text(violation.value))
            out.append(violation)
            continue
        container, value = found
        key = (match.group("container"), match.group("part"))
        if key not in seen:
            seen.add(key)
            out.append(_at_container(violation, key[0], key[1], container, value))
    return sorted(out, key=lambda v: _SERVER_ORDER.get(v.path, 0))


# Lambda's own model lists CompatibleRuntimes before CompatibleArchitectures (added later); the SDK's does not.
_SERVER_ORDER = {"compatibleRuntimes": 0, "compatibleArchitectures": 1}


def _at_container(violation: Violation, path: str, part: str, container: Shape, value: Any) -> Violation:
    if container.type_name == "list":
        member = container.member  # type: ignore[attr-defined]
        if member.name == "Runtime":  # Lambda judges runtimes itself and names the ones it takes
            return Violation(path, violation.member, _list_text(value),
                             f"{_ENUM}: [{', '.join(CREATABLE)}]")
        return Violation(path, violation.member, _list_text(value),
                         f"Member must satisfy constraint: [{_constraints(member)}, Member must not be null]")
    text = "{" + ", ".join(f"{k}={float(v) if isinstance(v, int | float) else v}" for k, v in value.items()) + "}"
    if part == "key":
        return Violation(path, violation.member, text,
                         f"Map keys must satisfy constraint: [{_constraints(container.key)}]")  # type: ignore[attr-defined]
    return Violation(path, violation.member, text, "Map value must satisfy constraint: "
                     f"[{_constraints(container.value)}, Member must not be null]")  # type: ignore[attr-defined]


def _constraints(shape: Shape) -> str:
    meta = shape.metadata
    word = "length" if shape.type_name in {"string", "list", "map", "blob"} else "value"
    parts = []
    if "max" in meta:
        parts.append(f"Member must have {word} less than or equal to {meta['max']}")
    if "min" in meta:
        parts.append(f"Member must have {word} greater than or equal to {meta['min']}")
    if meta.get("pattern"):
        parts.append(f"{_PATTERN}: {_unwrapped(meta['pattern'])}")
    if meta.get("enum"):
        parts.append(f"{_ENUM}: [{', '.join(meta['enum'])}]")
    return ", ".join(parts)


def _unwrapped(pattern: str) -> str:
    """Lambda prints an alternation without the outer parentheses the SDK model wraps it in."""
    if pattern.startswith("((") and pattern.endswith("))"):
        depth = 0
        for i, char in enumerate(pattern):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and i < len(pattern) - 1:
                return pattern
        return pattern[1:-1]
    return pattern


def _list_text(value: list[Any]) -> str:
    return "[" + ", ".join(str(item) for item in value) + "]"


def _locate(shape: Shape, params: dict[str, Any], path: str) -> tuple[Shape, Any] | None:
    """The list or map shape and value a violation path (`routingConfig.additionalVersionWeights`) names."""
    current_shape, current = shape, params
    for step in path.split("."):
        if current_shape.type_name != "structure" or not isinstance(current, dict):
            return None
        name = next((n for n in current_shape.members if n[:1].lower() + n[1:] == step), None)  # type: ignore[attr-defined]
        if name is None or current.get(name) is None:
            return None
        current_shape, current = current_shape.members[name], current[name]  # type: ignore[attr-defined]
    return (current_shape, current) if current_shape.type_name in {"list", "map"} else None


class SilentAccessDenied(AwsError):
    """AccessDeniedException with no message at all, as Lambda answers a CreateFunction that names another
    account's function ARN (the body's message is null)."""

    def __init__(self) -> None:
        super().__init__("AccessDeniedException", "", 403)
        self.message = None  # type: ignore[assignment]

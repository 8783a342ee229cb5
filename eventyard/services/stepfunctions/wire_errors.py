"""Model constraint violations as Step Functions' front end words them: every value quoted
(`Value '1001' at 'maxResults'`), a list of structures printed as Java prints the request's
objects (`[RoutingConfigurationListItem(stateMachineVersionArn=..., weight=50)]`), enum sets in the
order AWS prints them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.model import ServiceModel

from eventyard.protocol.errors import AwsError
from eventyard.protocol.models import service_model
from eventyard.protocol.validation import Violation


@lru_cache(maxsize=1)
def _item_shapes() -> dict[str, str]:
    """Top-level list members of structures -> the structure's shape name, over every operation."""
    model: ServiceModel = service_model("stepfunctions")
    out: dict[str, str] = {}
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        for member, member_shape in (shape.members.items() if shape is not None else ()):
            item = getattr(member_shape, "member", None)
            if member_shape.type_name == "list" and item is not None and item.type_name == "structure":
                out[member] = item.name
    return out


def _render(value: Any, path: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, list):
        item = _item_shapes().get(path)
        if item is not None and all(isinstance(v, dict) for v in value):
            objects = (f"{item}({', '.join(f'{k}={v}' for k, v in entry.items())})" for entry in value)
            return f"'[{', '.join(objects)}]'"
        return f"'[{', '.join(str(v) for v in value)}]'"
    return f"'{value}'"


# The enum sets AWS's front end prints in its own (hash-set) order, as recorded from AWS; others keep the model's.
ENUM_PREFIX = "Member must satisfy enum value set: ["
AWS_ENUM_ORDER = [
    ["SUCCEEDED", "TIMED_OUT", "PENDING_REDRIVE", "ABORTED", "FAILED", "RUNNING"],  # ExecutionStatus
]


def _constraint(text: str) -> str:
    if text.startswith(ENUM_PREFIX) and text.endswith("]"):
        members = text[len(ENUM_PREFIX):-1].split(", ")
        for order in AWS_ENUM_ORDER:
            if sorted(order) == sorted(members):
                return f"{ENUM_PREFIX}{', '.join(order)}]"
    return text


def on_violations(violations: list[Violation]) -> AwsError:
    count = len(violations)
    described = "; ".join(f"Value {_render(v.value, v.path)} at '{v.path}' failed to satisfy constraint: "
                          f"{_constraint(v.constraint)}" for v in violations)
    return AwsError("ValidationException",
                    f"{count} validation error{'s' if count > 1 else ''} detected: {described}", 400)

"""TestState's check of a mocked Task result against the called API's answer (`fieldValidationMode`):
STRICT checks required fields and the types and limits of those present, PRESENT only those present,
NONE nothing. Fields are named as the integration shows them (capitalised), fields outside the API
pass; the messages are AWS's (`Mock result schema validation error: Field 'X' must be a string`)."""

from __future__ import annotations

from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape

from eventyard.protocol.errors import AwsError
from eventyard.protocol.models import service_model
from eventyard.services.stepfunctions.integrations import SDK_SERVICES

OPTIMIZED_SERVICES = {"states": "stepfunctions"}
NUMBERS = ("integer", "long", "float", "double")


class _Invalid(Exception):
    pass


def check_mock_result(resource: Any, result: Any, mode: str) -> None:
    if mode == "NONE" or not isinstance(resource, str) or not isinstance(result, dict):
        return
    found = _operation(resource)
    if found is None:
        return
    operation, optimized = found
    if operation.output_shape is None:
        return
    try:
        _check_structure(operation.output_shape, result, mode == "STRICT", optimized)
    except _Invalid as err:
        raise AwsError("ValidationException", f"Mock result schema validation error: {err}") from None


def _operation(resource: str) -> tuple[OperationModel, bool] | None:
    """The API a Task resource calls, and whether it is an optimized integration (not aws-sdk)."""
    parts = resource.split(":")
    if not resource.startswith("arn:aws:states:::") or len(parts) < 7:
        return None
    if parts[5] == "aws-sdk":
        if len(parts) < 8:
            return None
        service, action, optimized = SDK_SERVICES.get(parts[6], parts[6]), parts[7], False
    else:
        service, action, optimized = OPTIMIZED_SERVICES.get(parts[5], parts[5]), parts[6].split(".")[0], True
    try:
        model = service_model(service)
    except Exception:  # a service botocore does not know: nothing to check against
        return None
    wanted = action[:1].upper() + action[1:]
    if wanted not in model.operation_names:
        return None
    return model.operation_model(wanted), optimized


def _field(member: str) -> str:
    return member[:1].upper() + member[1:]


def _check_structure(shape: Shape, value: dict[str, Any], strict: bool, optimized: bool) -> None:
    members = getattr(shape, "members", {})
    if strict:
        for required in getattr(shape, "required_members", []):
            if _field(required) not in value:
                raise _Invalid(f"Required field '{_field(required)}' is missing")
    for member, member_shape in members.items():
        name = _field(member)
        if name in value:
            _check(member_shape, value[name], name, strict, optimized)


def _check(shape: Shape, value: Any, name: str, strict: bool, optimized: bool) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _Invalid(f"Field '{name}' must be an object")
        _check_structure(shape, value, strict, optimized)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise _Invalid(f"Field '{name}' must be an array")
        for item in value:
            _check(shape.member, item, name, strict, optimized)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise _Invalid(f"Field '{name}' must be an object")
        for item in value.values():
            _check(shape.value, item, name, strict, optimized)
    elif kind in NUMBERS:
        _check_number(shape, value, name)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _Invalid(f"Field '{name}' must be a boolean")
    elif kind == "blob" and optimized:
        return  # an optimized integration decodes its payloads (Lambda's Payload is JSON)
    elif kind in ("string", "timestamp", "blob"):
        _check_string(shape, value, name)


def _check_number(shape: Shape, value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"Field '{name}' must be a number")
    if "min" in shape.metadata and value < shape.metadata["min"]:
        raise _Invalid(f"Field '{name}' is less than the minimum value")
    if "max" in shape.metadata and value > shape.metadata["max"]:
        raise _Invalid(f"Field '{name}' exceeds the maximum value")


def _check_string(shape: Shape, value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise _Invalid(f"Field '{name}' must be a string")
    enum = shape.metadata.get("enum") if shape.type_name == "string" else None
    if enum and value not in enum:
        raise _Invalid(f"Field '{name}' is not an expected value")
    if "min" in shape.metadata and len(value) < shape.metadata["min"]:
        raise _Invalid(f"Field '{name}' is smaller than the minimum length")

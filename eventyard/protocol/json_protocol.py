"""AWS JSON 1.0 / 1.1: the operation in `X-Amz-Target`, input and output as JSON documents."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from eventyard.protocol.base import HttpRequest, HttpResponse, ParsedRequest
from eventyard.protocol.errors import AwsError, UnknownOperation
from eventyard.protocol.json_documents import load_body, may_hold_lone_surrogates
from eventyard.protocol.validation import Violation, ViolationHandler, coral_message, enforce
from eventyard.protocol.values import (
    WireTypeError,
    decode_base64,
    encode_base64,
    epoch_seconds,
    iso8601,
    parse_timestamp,
    rfc822,
)


def coral_validation_error(violations: list[Violation]) -> AwsError:
    return AwsError("ValidationException", coral_message(violations), 400)


class JsonProtocol:
    def __init__(
        self,
        model: ServiceModel,
        on_violations: ViolationHandler = coral_validation_error,
        error_type_prefix: str = "",
        query_error_code: Callable[[AwsError], str] | None = None,
    ) -> None:
        self.model = model
        self.on_violations = on_violations
        self.error_type_prefix = error_type_prefix
        # Services that moved from the query protocol keep their old codes in `x-amzn-query-error`,
        # which botocore reads back as the error's Code.
        self.query_error_code = query_error_code
        version = model.metadata.get("jsonVersion", "1.0")
        self.content_type = f"application/x-amz-json-{version}"
        self._operations = {name: model.operation_model(name) for name in model.operation_names}

    def parse(self, request: HttpRequest) -> ParsedRequest:
        target = request.headers.get("x-amz-target", "")
        _, _, name = target.rpartition(".")
        operation = self._operations.get(name)
        if operation is None:
            raise UnknownOperation(message=f"Operation {name or target} is not supported.")
        document = load_body(request.body) if request.body.strip() else {}
        if not isinstance(document, dict):  # `null`, `[1]`, `-1`: valid JSON, not an input structure
            raise WireTypeError("Start of structure or map expected." if not isinstance(document, list)
                                else "Start of list found where not expected")
        shape = operation.input_shape
        if shape is None:
            return ParsedRequest(operation, {})
        params = read_json(shape, document)
        enforce(shape, params, self.on_violations, check_unicode=may_hold_lone_surrogates(request.body))
        return ParsedRequest(operation, params)

    def serialize(self, operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> HttpResponse:
        shape = operation.output_shape
        document = write_json(shape, result or {}) if shape is not None else {}
        body = json.dumps(document, separators=(",", ":")).encode()
        return HttpResponse(200, body, {"content-type": self.content_type, "x-amzn-requestid": request_id})

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        body = {"__type": f"{self.error_type_prefix}{error.code}", "message": error.message}
        headers = {"content-type": self.content_type, "x-amzn-requestid": request_id}
        if self.query_error_code is not None:
            fault = "Sender" if error.sender_fault else "Receiver"
            headers["x-amzn-query-error"] = f"{self.query_error_code(error)};{fault}"
        return HttpResponse(error.status, json.dumps(body).encode(), headers)


def read_json(shape: Shape, value: Any) -> Any:
    """JSON document -> Python values typed by the shape (bytes for blobs, floats for timestamps)."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise WireTypeError(f"Expected an object for {shape.name}")
        members = shape.members
        renamed = _renamed_members(shape)
        if renamed:  # members whose JSON key is their `locationName` (rest-json's `tags`)
            return {renamed.get(k, k): read_json(members[renamed.get(k, k)], v) for k, v in value.items()
                    if renamed.get(k, k) in members and v is not None}
        return {k: read_json(members[k], v) for k, v in value.items() if k in members and v is not None}
    if kind == "list":
        if not isinstance(value, list):
            raise WireTypeError(f"Expected a list for {shape.name}")
        return [read_json(shape.member, item) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise WireTypeError(f"Expected a map for {shape.name}")
        return {read_json(shape.key, k): read_json(shape.value, v) for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            raise WireTypeError(f"STRING_VALUE can not be converted to {shape.name}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise WireTypeError(f"Expected a boolean for {shape.name}")
        return value
    if kind in {"integer", "long"}:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not value.is_integer()
        ):
            raise WireTypeError(f"Expected an integer for {shape.name}")
        return int(value)
    if kind in {"float", "double"}:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise WireTypeError(f"Expected a number for {shape.name}")
        return float(value)
    if kind == "blob":
        if not isinstance(value, str):
            raise WireTypeError(f"Expected base64 text for {shape.name}")
        return decode_base64(value)
    if kind == "timestamp":
        return parse_timestamp(value)
    return value  # document types pass through


def _renamed_members(shape: Shape) -> dict[str, str]:
    """JSON key -> member name for the members whose key is not their name (cached on the shape)."""
    cached: dict[str, str] | None = getattr(shape, "_eventyard_renamed", None)
    if cached is None:
        cached = {m.serialization["name"]: n for n, m in shape.members.items()
                  if m.serialization.get("name", n) != n and "location" not in m.serialization}
        shape._eventyard_renamed = cached  # type: ignore[attr-defined]
    return cached


def write_json(shape: Shape, value: Any) -> Any:
    """Python values -> the JSON document a client's parser expects for the shape."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        out = {}
        for name, item in value.items():
            member = members.get(name)
            if member is not None and item is not None:
                out[member.serialization.get("name", name)] = write_json(member, item)
        return out
    if kind == "list":
        return [write_json(shape.member, item) for item in value]
    if kind == "map":
        return {k: write_json(shape.value, v) for k, v in value.items()}
    if kind == "blob":
        return encode_base64(value)
    if kind == "timestamp":
        # A shape's timestampFormat trait wins over the protocol's epoch seconds (Schemas' iso8601
        # members): strict clients such as the JS SDK v3 refuse a number there.
        fmt = shape.serialization.get("timestampFormat")
        if fmt == "iso8601":
            return iso8601(value)
        if fmt == "rfc822":
            return rfc822(value)
        seconds = epoch_seconds(value)
        return int(seconds) if float(seconds).is_integer() else round(seconds, 3)
    if kind in {"float", "double"} and isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value

"""Smithy RPC v2 CBOR (`smithy-rpc-v2-cbor`), and the CBOR codec it shares with `x-amz-cbor-1.1`.

A request is `POST /service/<Service>/operation/<Operation>` with `smithy-protocol: rpc-v2-cbor` and a
CBOR map for the input; the answer is a CBOR map for the output, or `{"__type", "message"}` for an
error. Values are typed by walking the operation's shapes, as the JSON protocol does: blobs travel as
byte strings and timestamps as tag 1 (epoch seconds; AWS's older `x-amz-cbor-1.1`, which Kinesis's
Java SDK speaks, puts epoch *milliseconds* under the same tag).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import cbor2
from botocore.model import OperationModel, ServiceModel, Shape

from eventyard.protocol.base import HttpRequest, HttpResponse, ParsedRequest
from eventyard.protocol.compression import decompressed
from eventyard.protocol.errors import AwsError, UnknownOperation
from eventyard.protocol.json_protocol import coral_validation_error
from eventyard.protocol.query_compatible import QueryCompatibility
from eventyard.protocol.validation import ViolationHandler, enforce
from eventyard.protocol.values import WireTypeError, epoch_seconds, parse_timestamp

CBOR_CONTENT_TYPE = "application/cbor"
_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")


class _Tagged1(float):
    """A tag-1 (epoch time) number as it came off the wire, before the codec scales it."""


def _epoch(value: Any, _immutable: bool) -> _Tagged1:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WireTypeError("Expected a number under CBOR tag 1")
    return _Tagged1(value)


class CborCodec:
    """CBOR bytes <-> Python values typed by a shape. `timestamp_scale` is how many units of the
    wire's tag-1 numbers make a second (1 for RPC v2, 1000 for `x-amz-cbor-1.1`)."""

    def __init__(self, timestamp_scale: float = 1.0) -> None:
        self.timestamp_scale = timestamp_scale

    # -- bytes ------------------------------------------------------------------------------
    def decode(self, body: bytes) -> Any:
        if not body:
            return {}
        try:
            return cbor2.loads(body, semantic_decoders={1: _epoch}, allow_indefinite=True)
        except (cbor2.CBORDecodeError, ValueError, TypeError) as exc:
            raise AwsError("SerializationException", "Malformed CBOR body.") from exc

    @staticmethod
    def encode(document: Any) -> bytes:
        return bytes(cbor2.dumps(document))

    # -- shapes -----------------------------------------------------------------------------
    def parse(self, operation: OperationModel, body: bytes, on_violations: ViolationHandler) -> ParsedRequest:
        """A request body of `operation`: decoded, read into Python values and validated."""
        shape = operation.input_shape
        document = self.decode(body)
        if shape is None:
            return ParsedRequest(operation, {})
        params = self.read(shape, document)
        enforce(shape, params, on_violations)
        return ParsedRequest(operation, params)

    def read(self, shape: Shape, value: Any) -> Any:
        """Decoded CBOR -> Python values typed by the shape (bytes for blobs, floats for timestamps)."""
        if value is None:
            return None
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                raise WireTypeError(f"Expected a map for {shape.name}")
            members = shape.members
            return {k: self.read(members[k], v) for k, v in value.items() if k in members and v is not None}
        if kind == "list":
            if not isinstance(value, list):
                raise WireTypeError(f"Expected an array for {shape.name}")
            return [self.read(shape.member, item) for item in value]
        if kind == "map":
            if not isinstance(value, dict):
                raise WireTypeError(f"Expected a map for {shape.name}")
            return {self.read(shape.key, k): self.read(shape.value, v) for k, v in value.items() if v is not None}
        return self._read_scalar(shape, kind, value)

    def _read_scalar(self, shape: Shape, kind: str, value: Any) -> Any:
        if kind == "string":
            if not isinstance(value, str):
                raise WireTypeError(f"Expected a text string for {shape.name}")
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise WireTypeError(f"Expected a boolean for {shape.name}")
            return value
        if kind in {"integer", "long", "short", "byte"}:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    isinstance(value, float) and not value.is_integer()):
                raise WireTypeError(f"Expected an integer for {shape.name}")
            return int(value)
        if kind in {"float", "double"}:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise WireTypeError(f"Expected a number for {shape.name}")
            return float(value)
        if kind == "blob":
            if isinstance(value, str):  # some clients send text for blobs of text
                return value.encode()
            if not isinstance(value, (bytes, bytearray)):
                raise WireTypeError(f"Expected a byte string for {shape.name}")
            return bytes(value)
        if kind == "timestamp":
            if isinstance(value, _Tagged1):
                return float(value) / self.timestamp_scale
            if isinstance(value, dt.datetime):
                return epoch_seconds(value)
            return parse_timestamp(value)
        return value  # documents pass through

    def write(self, shape: Shape, value: Any) -> Any:
        """Python values -> what the client's CBOR parser expects for the shape."""
        if value is None:
            return None
        kind = shape.type_name
        if kind == "structure":
            members = shape.members
            return {name: self.write(members[name], item) for name, item in value.items()
                    if item is not None and name in members}
        if kind == "list":
            return [self.write(shape.member, item) for item in value]
        if kind == "map":
            return {k: self.write(shape.value, v) for k, v in value.items()}
        if kind == "blob":
            return value.encode() if isinstance(value, str) else bytes(value)
        if kind == "timestamp":
            scaled = epoch_seconds(value) * self.timestamp_scale
            if self.timestamp_scale != 1.0 or float(scaled).is_integer():
                return cbor2.CBORTag(1, int(round(scaled)))
            return cbor2.CBORTag(1, round(scaled, 3))
        if kind in {"float", "double"}:
            return float(value)
        return value


class RpcV2CborProtocol:
    """The generic `smithy-rpc-v2-cbor` protocol for any model that lists it."""

    def __init__(self, model: ServiceModel, on_violations: ViolationHandler = coral_validation_error,
                 error_namespace: str = "") -> None:
        self.model = model
        self.on_violations = on_violations
        self.codec = CborCodec(1.0)
        self.service_name = model.metadata.get("targetPrefix") or model.metadata.get("serviceId", "")
        self.error_namespace = error_namespace
        self.query_compatible = QueryCompatibility(model) if "awsQueryCompatible" in model.metadata else None
        self._operations = {name: model.operation_model(name) for name in model.operation_names}

    def accepts(self, request: HttpRequest) -> bool:
        return request.headers.get("smithy-protocol") == "rpc-v2-cbor" or self.matches(request)

    def matches(self, request: HttpRequest) -> bool:
        match = _PATH.match(request.path)
        return request.method == "POST" and match is not None and match.group(1) == self.service_name

    def parse(self, request: HttpRequest) -> ParsedRequest:
        request = decompressed(request)
        match = _PATH.match(request.path)
        if request.method != "POST" or match is None or match.group(1) != self.service_name:
            raise UnknownOperation(message="The request does not name a service operation of this service.")
        operation = self._operations.get(match.group(2))
        if operation is None:
            raise UnknownOperation(message=f"Operation {match.group(2)} is not supported.")
        return self.codec.parse(operation, request.body, self.on_violations)

    def serialize(self, operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> HttpResponse:
        shape = operation.output_shape
        document = self.codec.write(shape, result or {}) if shape is not None else {}
        return HttpResponse(200, self.codec.encode(document), self._headers(request_id))

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        headers = self._headers(request_id)
        type_name = error.code
        if self.query_compatible is not None:
            type_name = self.query_compatible.shape_name(error.code, operation)
            headers["x-amzn-query-error"] = self.query_compatible.header(error)
        if self.error_namespace:
            type_name = f"{self.error_namespace}#{type_name}"
        body = self.codec.encode({"__type": type_name, "message": error.message})
        return HttpResponse(error.status, body, headers)

    @staticmethod
    def _headers(request_id: str) -> dict[str, str]:
        return {"content-type": CBOR_CONTENT_TYPE, "smithy-protocol": "rpc-v2-cbor", "x-amzn-requestid": request_id}

"""AWS rest-json: the operation is the HTTP method plus the model's `requestUri`; members live where
the model's `location` trait puts them (path labels, query string, headers, status code, body).

Used by Lambda and EventBridge Scheduler. Like the other protocols it reads every wire rule from
the botocore model, so a new operation needs no code here.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from eventyard.protocol.base import HttpRequest, HttpResponse, ParsedRequest
from eventyard.protocol.errors import AwsError, UnknownOperation
from eventyard.protocol.json_documents import load_body, may_hold_lone_surrogates
from eventyard.protocol.json_protocol import coral_validation_error, read_json, write_json
from eventyard.protocol.validation import ViolationHandler, enforce
from eventyard.protocol.values import WireTypeError, decode_base64, epoch_seconds, iso8601, parse_timestamp, rfc822

_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@dataclass
class _Route:
    """One operation's `requestUri` compiled to a path regex plus literal query requirements."""

    operation: OperationModel
    method: str
    path: re.Pattern[str]
    labels: dict[str, str]  # regex group -> label name
    query: dict[str, str | None]  # literal query parts: name -> required value (None: present)
    specificity: tuple[int, int, int]


def _compile(operation: OperationModel) -> _Route:
    http = operation.http
    uri: str = http["requestUri"]
    path, _, query_text = uri.partition("?")
    pattern, labels, literal, greedy, pos = [], {}, 0, 0, 0
    for index, match in enumerate(_LABEL.finditer(path)):
        pattern.append(re.escape(path[pos:match.start()]))
        literal += match.start() - pos
        group = f"g{index}"
        labels[group] = match.group(1)
        if match.group(2):
            greedy += 1
            pattern.append(f"(?P<{group}>.+)")
        else:
            pattern.append(f"(?P<{group}>[^/]+)")
        pos = match.end()
    pattern.append(re.escape(path[pos:]))
    literal += len(path) - pos
    text = "".join(pattern).rstrip("/") if path != "/" else ""
    query: dict[str, str | None] = {}
    for part in filter(None, query_text.split("&")):
        name, eq, value = part.partition("=")
        query[name] = value if eq else None
    return _Route(operation, http["method"].upper(), re.compile(f"{text}/?"), labels, query,
                  (len(query), -greedy, literal))


def _raw_path(request: HttpRequest) -> str:
    # The still-encoded path keeps a label's escaped "/" (a schedule ARN in /tags/{ResourceArn}).
    return getattr(request, "raw_path", "") or request.path


class RestJsonProtocol:
    def __init__(self, model: ServiceModel, on_violations: ViolationHandler = coral_validation_error) -> None:
        self.model = model
        self.on_violations = on_violations
        self.content_type = "application/json"
        routes = [_compile(model.operation_model(name)) for name in model.operation_names]
        # Most specific first: literal query parts, then no greedy label, then the longest literal text.
        self._routes = sorted(routes, key=lambda r: r.specificity, reverse=True)

    # -- matching ----------------------------------------------------------------------------
    def _find(self, request: HttpRequest) -> tuple[_Route, dict[str, str]] | None:
        path = _raw_path(request)
        query = dict(parse_qsl(request.query_string, keep_blank_values=True))
        method = request.method.upper()
        for route in self._routes:
            if route.method != method:
                continue
            match = route.path.fullmatch(path)
            if match is None:
                continue
            if any(name not in query or (value is not None and query[name] != value)
                   for name, value in route.query.items()):
                continue
            return route, {route.labels[g]: unquote(v) for g, v in match.groupdict().items()}
        return None

    def operation_name(self, request: HttpRequest) -> str | None:
        """The operation the method and path name, without reading the body (a refused oversized one)."""
        found = self._find(request)
        return found[0].operation.name if found is not None else None

    def matches(self, request: HttpRequest) -> bool:
        """Whether an operation of this model answers this method and path (routing unsigned requests)."""
        return self._find(request) is not None

    # -- requests ----------------------------------------------------------------------------
    def parse(self, request: HttpRequest) -> ParsedRequest:
        found = self._find(request)
        if found is None:
            raise UnknownOperation(message=f"No operation matches {request.method} {request.path}.")
        route, labels = found
        operation = route.operation
        shape = operation.input_shape
        if shape is None:
            return ParsedRequest(operation, {})
        params = self._read_request(shape, request, labels)
        enforce(shape, params, self.violation_handler(shape, params),
                check_unicode=may_hold_lone_surrogates(request.body))
        return ParsedRequest(operation, params)

    def violation_handler(self, shape: StructureShape, params: dict[str, Any]) -> ViolationHandler:
        """How this request's model violations are answered; a service whose wording depends on the
        whole input (Lambda prints a bad list member's whole list) gives its own per request."""
        return self.on_violations

    def _read_request(self, shape: StructureShape, request: HttpRequest, labels: dict[str, str]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        pairs = parse_qsl(request.query_string, keep_blank_values=True)
        located_query = {m.serialization.get("name", n) for n, m in shape.members.items()
                         if m.serialization.get("location") == "querystring"}
        payload_name = shape.serialization.get("payload")
        body_members: dict[str, tuple[str, Shape]] = {}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "uri":
                if wire_name in labels:
                    params[name] = _from_text(member, labels[wire_name])
            elif location == "querystring":
                if member.type_name == "map":
                    # A map without a name takes every parameter no other member claims.
                    extra = [(k, v) for k, v in pairs if k not in located_query]
                    if extra:
                        params[name] = _query_map(member, extra)
                    continue
                values = [v for k, v in pairs if k == wire_name]
                if not values:
                    continue
                if member.type_name == "list":
                    params[name] = [_from_text(member.member, v) for v in values]
                else:
                    params[name] = _from_text(member, values[0])
            elif location == "header":
                value = request.headers.get(wire_name.lower())
                if value is not None:
                    if member.type_name == "list":
                        params[name] = [_from_text(member.member, v.strip()) for v in value.split(",")]
                    else:
                        params[name] = _from_text(member, value)
            elif location == "headers":
                prefix = wire_name.lower()
                found = {k[len(prefix):]: v for k, v in request.headers.items() if k.startswith(prefix)}
                if found:
                    params[name] = found
            elif location is None and name != payload_name:
                body_members[wire_name] = (name, member)
        if payload_name:
            member = shape.members[payload_name]
            if member.type_name == "blob":
                if request.body:
                    params[payload_name] = request.body
            elif member.type_name == "string":
                if request.body:
                    params[payload_name] = request.body.decode("utf-8")
            else:
                document = _json_body(request)
                if document is not None:
                    params[payload_name] = read_json(member, document)
        elif body_members:
            document = _json_body(request)
            if document is not None:
                if not isinstance(document, dict):
                    raise WireTypeError("Start of list found where not expected")
                for key, value in document.items():
                    body_member = body_members.get(key)
                    if body_member is not None and value is not None:
                        params[body_member[0]] = read_json(body_member[1], value)
        return params

    # -- responses ---------------------------------------------------------------------------
    def serialize(self, operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> HttpResponse:
        result = result or {}
        status = int(operation.http.get("responseCode", 200))
        headers = {"x-amzn-requestid": request_id}
        shape = operation.output_shape
        if shape is None:
            return HttpResponse(status, b"", headers)
        status, body = self._write_located(shape, result, headers, status)
        return HttpResponse(status, body, headers)

    def _write_located(self, shape: StructureShape, result: dict[str, Any], headers: dict[str, str],
                       status: int) -> tuple[int, bytes]:
        payload_name = shape.serialization.get("payload")
        body: dict[str, Any] = {}
        has_body_members = False
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            value = result.get(name)
            if location is None and name != payload_name:
                has_body_members = True
                if value is not None:
                    body[wire_name] = write_json(member, value)
                continue
            if value is None:
                continue
            if location == "statusCode":
                status = int(value)
            elif location == "header":
                headers[wire_name.lower()] = _to_text(member, value)
            elif location == "headers":
                for key, item in value.items():
                    headers[f"{wire_name}{key}".lower()] = str(item)
        if payload_name:
            member = shape.members[payload_name]
            value = result.get(payload_name)
            if value is None:
                return status, b""
            if member.type_name == "blob":
                headers.setdefault("content-type", "application/octet-stream")
                return status, value if isinstance(value, bytes) else bytes(value)
            if member.type_name == "string":
                headers.setdefault("content-type", "text/plain")
                return status, value.encode("utf-8")
            headers["content-type"] = self.content_type
            return status, _dumps(write_json(member, value))
        if not has_body_members or status == 204:
            return status, b""
        headers["content-type"] = self.content_type
        return status, _dumps(body)

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        """AWS rest-json errors: the code in `x-amzn-ErrorType`, the message (and any error-shape
        members, e.g. Lambda's `Reason`) in the JSON body, the status from the error shape."""
        headers = {"x-amzn-requestid": request_id, "x-amzn-errortype": error.code,
                   "content-type": self.content_type}
        shape = self._error_shape(error.code)
        status = error.status
        body: dict[str, Any] = {}
        extra: dict[str, Any] = dict(getattr(error, "fields", None) or {})
        if shape is not None:
            status = int(shape.metadata.get("error", {}).get("httpStatusCode", status))
            members = shape.members
            message_key = "Message" if "Message" in members and "message" not in members else "message"
            if "Type" in members and not ("Type" in extra and extra["Type"] is None):  # None: AWS sends no Type
                body["Type"] = "User" if error.sender_fault else "Server"
            body[message_key] = error.message
            for name, value in extra.items():
                member = members.get(name)
                if member is None or value is None:
                    continue
                location = member.serialization.get("location")
                if location == "header":
                    headers[member.serialization.get("name", name).lower()] = _to_text(member, value)
                elif location is None:
                    body[name] = write_json(member, value)
        else:
            body["message"] = error.message
            body.update({k: v for k, v in extra.items() if v is not None})
        return HttpResponse(status, _dumps(body), headers)

    def _error_shape(self, code: str) -> StructureShape | None:
        for shape in _error_shapes(self.model):
            if shape.name == code or shape.metadata.get("error", {}).get("code") == code:
                return shape
        return None


def _error_shapes(model: ServiceModel) -> Iterable[StructureShape]:
    cached = getattr(model, "_eventyard_error_shapes", None)
    if cached is None:
        cached = list(model.error_shapes)
        model._eventyard_error_shapes = cached
    return cached  # type: ignore[no-any-return]


def _json_body(request: HttpRequest) -> Any:
    body = request.body
    if not body.strip():
        return None
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type.lower():
        # SDKs send JSON documents as JSON; a form or text/plain body is a browser's cross-site post.
        raise AwsError("UnsupportedMediaTypeException", f"Unsupported Media Type: {content_type}", 415)
    return load_body(body)


def _dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _query_map(shape: Shape, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    value_shape = shape.value
    for key, value in pairs:
        if value_shape.type_name == "list":
            out.setdefault(key, []).append(_from_text(value_shape.member, value))
        else:
            out[key] = _from_text(value_shape, value)
    return out


def _from_text(shape: Shape, text: str) -> Any:
    """A path, query or header value as the shape's Python type."""
    kind = shape.type_name
    if kind in {"integer", "long"}:
        try:
            return int(text)
        except ValueError as exc:
            raise WireTypeError(f"Value '{text}' is not a valid integer for {shape.name}") from exc
    if kind in {"float", "double"}:
        try:
            return float(text)
        except ValueError as exc:
            raise WireTypeError(f"Value '{text}' is not a valid number for {shape.name}") from exc
    if kind == "boolean":
        if text.lower() not in {"true", "false"}:
            raise WireTypeError(f"Value '{text}' is not a valid boolean for {shape.name}")
        return text.lower() == "true"
    if kind == "timestamp":
        return _header_timestamp(text)
    if kind == "blob":
        return decode_base64(text)
    if kind == "string" and shape.serialization.get("jsonvalue"):
        try:
            return json.loads(base64.b64decode(text))
        except (ValueError, RecursionError) as exc:
            raise WireTypeError(f"Value '{text[:100]}' is not base64-encoded JSON for {shape.name}") from exc
    return text


def _header_timestamp(text: str) -> float:
    from email.utils import parsedate_to_datetime

    try:
        return parse_timestamp(text)
    except WireTypeError:
        try:
            return parsedate_to_datetime(text).timestamp()
        except (TypeError, ValueError) as exc:
            raise WireTypeError(f"Invalid timestamp '{text}'") from exc


def _to_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "rfc822")
        if fmt == "iso8601":
            return iso8601(value)
        if fmt == "unixTimestamp":
            return str(int(epoch_seconds(value)))
        return rfc822(value)
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(_dumps(value)).decode("ascii")
    if kind == "list":
        return ",".join(_to_text(shape.member, v) for v in value)
    return str(value)

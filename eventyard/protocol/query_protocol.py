"""AWS query protocol: form-encoded parameters in (`Action=...&Attribute.1.Name=...`), XML out.

The element and parameter names come from the model's serialization traits (locationName,
flattened, resultWrapper), exactly as botocore's own query serializer and parser read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, ServiceModel, Shape

from eventyard.protocol.base import HttpRequest, HttpResponse, ParsedRequest
from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import coral_validation_error
from eventyard.protocol.validation import ViolationHandler, enforce
from eventyard.protocol.values import decode_base64, encode_base64, iso8601, parse_timestamp

XML_CONTENT_TYPE = "text/xml"


class InvalidQueryValue(AwsError):
    def __init__(self, name: str, value: str) -> None:
        super().__init__("InvalidParameterValue", f"Value ({value}) for parameter {name} is invalid.", 400)


class QueryProtocol:
    def __init__(
        self,
        model: ServiceModel,
        on_violations: ViolationHandler = coral_validation_error,
        wire_error_code: Callable[[AwsError], str] | None = None,
        error_detail: bool = False,
    ) -> None:
        self.model = model
        # SQS's query errors carry an empty <Detail/> element; SNS's carry none (as AWS answers).
        self.error_detail = "<Detail/>" if error_detail else ""
        self.on_violations = on_violations
        self.wire_error_code = wire_error_code or (lambda error: error.code)
        self.namespace = model.metadata.get("xmlNamespace", "")
        self._operations = {name: model.operation_model(name) for name in model.operation_names}

    # -- requests --------------------------------------------------------------------------
    def form(self, request: HttpRequest) -> dict[str, str]:
        text = request.query_string
        if request.method == "POST" and request.body:
            text = request.body.decode("utf-8", errors="replace")
        return dict(parse_qsl(text, keep_blank_values=True))

    def parse(self, request: HttpRequest, form: dict[str, str] | None = None) -> ParsedRequest:
        form = dict(form) if form is not None else self.form(request)
        action = form.pop("Action", None)
        form.pop("Version", None)
        if not action:
            raise AwsError("MissingAction", "MissingAction", 400)
        operation = self._operations.get(action)
        if operation is None:
            raise AwsError("InvalidAction", f"The action {action} is not valid for this web service.", 400)
        shape = operation.input_shape
        if shape is None:
            return ParsedRequest(operation, {})
        params = _read(shape, _nest(form), action) or {}
        enforce(shape, params, self.on_violations)
        return ParsedRequest(operation, params)

    # -- responses -------------------------------------------------------------------------
    def serialize(self, operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> HttpResponse:
        name = operation.name
        parts = [f'<?xml version="1.0"?><{name}Response xmlns="{self.namespace}">']
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper")
            inner: list[str] = []
            _write_members(shape, result or {}, inner)
            if wrapper and not inner:
                parts.append(f"<{wrapper}/>")  # an empty result is one empty element, as AWS writes it
            elif wrapper:
                parts.append(f"<{wrapper}>")
                parts.extend(inner)
                parts.append(f"</{wrapper}>")
            else:
                parts.extend(inner)
        parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>")
        return HttpResponse(200, "".join(parts).encode(), {"content-type": XML_CONTENT_TYPE,
                                                           "x-amzn-requestid": request_id})

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        fault = "Sender" if error.sender_fault else "Receiver"
        body = (
            f'<?xml version="1.0"?><ErrorResponse xmlns="{self.namespace}"><Error><Type>{fault}</Type>'
            f"<Code>{escape(self.wire_error_code(error))}</Code><Message>{escape(error.message)}</Message>"
            f"{self.error_detail}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return HttpResponse(error.status, body.encode(), {"content-type": XML_CONTENT_TYPE,
                                                          "x-amzn-requestid": request_id})


# -- reading form parameters ---------------------------------------------------------------
def _nest(form: dict[str, str]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in form.items():
        node = root
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {"": child} if child is not None else {}
                node[part] = child
            node = child
        last = parts[-1]
        if isinstance(node.get(last), dict):
            node[last][""] = value
        else:
            node[last] = value
    return root


def member_key(member_name: str, shape: Shape) -> str:
    """The name a member travels under in the query protocol (botocore's rule, both directions)."""
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        inner = shape.member.serialization.get("name")
        if inner:
            return str(inner)
    return str(shape.serialization.get("name", member_name))


def _indexed(node: Any) -> list[Any]:
    if not isinstance(node, dict):
        return []
    items = [(int(k), v) for k, v in node.items() if k.isdigit()]
    return [v for _, v in sorted(items)]


def _read(shape: Shape, node: Any, name: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(node, dict):
            return None
        out = {}
        for member_name, member_shape in shape.members.items():
            raw = node.get(member_key(member_name, member_shape))
            if raw is None and member_shape.type_name == "list":
                raw = node.get(member_name)  # botocore sends an empty list as `Name=`
            if raw is not None:
                value = _read(member_shape, raw, member_name)
                if value is not None:
                    out[member_name] = value
        return out
    if kind == "list":
        if node == "":
            return []
        if not shape.serialization.get("flattened"):
            node = node.get(shape.member.serialization.get("name", "member")) if isinstance(node, dict) else None
        return [_read(shape.member, item, name) for item in _indexed(node)]
    if kind == "map":
        if not shape.serialization.get("flattened") and isinstance(node, dict):
            node = node.get("entry")
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out_map = {}
        for entry in _indexed(node):
            if isinstance(entry, dict) and key_name in entry:
                key = _read(shape.key, entry[key_name], name)
                out_map[key] = _read(shape.value, entry.get(value_name), name)
        return out_map
    if isinstance(node, dict):  # a scalar given sub-keys: take the bare value if any
        node = node.get("")
        if node is None:
            return None
    return _scalar(shape, node, name)


def _scalar(shape: Shape, raw: str, name: str) -> Any:
    kind = shape.type_name
    try:
        if kind in {"integer", "long"}:
            return int(raw)
        if kind in {"float", "double"}:
            return float(raw)
    except ValueError:
        raise InvalidQueryValue(name, raw) from None
    if kind == "boolean":
        lowered = raw.lower()
        if lowered not in {"true", "false"}:
            raise InvalidQueryValue(name, raw)
        return lowered == "true"
    if kind == "blob":
        return decode_base64(raw)
    if kind == "timestamp":
        return parse_timestamp(raw)
    return raw


# -- writing XML ---------------------------------------------------------------------------
def escape(text: str) -> str:
    # \r must be a character reference or XML parsers fold it into \n (SQS bodies keep it).
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")
        .replace('"', "&quot;")
    )


def _write_members(shape: Shape, value: dict[str, Any], out: list[str]) -> None:
    for member_name, member_shape in shape.members.items():
        item = value.get(member_name)
        if item is not None:
            _write(member_shape, item, member_key(member_name, member_shape), out)


def _write(shape: Shape, value: Any, tag: str, out: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        out.append(f"<{tag}>")
        _write_members(shape, value, out)
        out.append(f"</{tag}>")
    elif kind == "list":
        if shape.serialization.get("flattened"):
            for item in value:
                _write(shape.member, item, tag, out)
        else:
            inner = shape.member.serialization.get("name", "member")
            out.append(f"<{tag}>")
            for item in value:
                _write(shape.member, item, inner, out)
            out.append(f"</{tag}>")
    elif kind == "map":
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        flattened = shape.serialization.get("flattened")
        if not flattened:
            out.append(f"<{tag}>")
        for key, item in value.items():
            out.append(f"<{tag}>" if flattened else "<entry>")
            _write(shape.key, key, key_tag, out)
            _write(shape.value, item, value_tag, out)
            out.append(f"</{tag}>" if flattened else "</entry>")
        if not flattened:
            out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}>{_scalar_text(kind, value)}</{tag}>")


def _scalar_text(kind: str, value: Any) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        return encode_base64(value)
    if kind == "timestamp":
        return iso8601(value)
    return escape(str(value))

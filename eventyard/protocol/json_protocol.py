"""AWS JSON 1.0 / 1.1: the operation in `X-Amz-Target`, input and output as JSON documents."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel, ServiceModel

from eventyard.protocol.base import HttpRequest, HttpResponse, ParsedRequest
from eventyard.protocol.errors import AwsError, UnknownOperation
from eventyard.protocol.json_codec import read_json, write_json
from eventyard.protocol.json_documents import load_body, may_hold_lone_surrogates
from eventyard.protocol.validation import Violation, ViolationHandler, coral_message, enforce
from eventyard.protocol.values import WireTypeError

__all__ = ["JsonProtocol", "coral_validation_error", "read_json", "write_json"]
# One encoder for every answer: json.dumps with separators builds a new encoder per call.
_compact = json.JSONEncoder(separators=(",", ":")).encode


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
        body = _compact(document).encode()
        return HttpResponse(200, body, {"content-type": self.content_type, "x-amzn-requestid": request_id})

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        body = {"__type": f"{self.error_type_prefix}{error.code}", "message": error.message}
        headers = {"content-type": self.content_type, "x-amzn-requestid": request_id}
        if self.query_error_code is not None:
            fault = "Sender" if error.sender_fault else "Receiver"
            headers["x-amzn-query-error"] = f"{self.query_error_code(error)};{fault}"
        return HttpResponse(error.status, json.dumps(body).encode(), headers)

"""AWS JSON 1.1 semantics with CBOR bodies (`application/x-amz-cbor-1.1`).

The operation travels in `X-Amz-Target` exactly as for JSON 1.1, and the body is the same document
in CBOR (blobs as byte strings, timestamps as tag 1 in epoch milliseconds). Kinesis's SDKs for Java
(and the Kinesis Producer/Client Libraries on them) speak it by default; the codec is the one RPC v2
CBOR uses.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, ServiceModel

from eventyard.protocol.base import HttpRequest, HttpResponse, ParsedRequest
from eventyard.protocol.errors import AwsError, UnknownOperation
from eventyard.protocol.json_protocol import coral_validation_error
from eventyard.protocol.rpc_v2_cbor import CborCodec
from eventyard.protocol.validation import ViolationHandler

AMZ_CBOR_CONTENT_TYPE = "application/x-amz-cbor-1.1"


class AmzCborProtocol:
    def __init__(self, model: ServiceModel, on_violations: ViolationHandler = coral_validation_error) -> None:
        self.model = model
        self.on_violations = on_violations
        self.codec = CborCodec(1000.0)
        self._operations = {name: model.operation_model(name) for name in model.operation_names}

    def accepts(self, request: HttpRequest) -> bool:
        return request.headers.get("content-type", "").split(";")[0].strip().lower() == AMZ_CBOR_CONTENT_TYPE

    def parse(self, request: HttpRequest) -> ParsedRequest:
        target = request.headers.get("x-amz-target", "")
        _, _, name = target.rpartition(".")
        operation = self._operations.get(name)
        if operation is None:
            raise UnknownOperation(message=f"Operation {name or target} is not supported.")
        return self.codec.parse(operation, request.body, self.on_violations)

    def serialize(self, operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> HttpResponse:
        shape = operation.output_shape
        stream_member = shape.event_stream_name if shape is not None else None
        if stream_member and result is not None:  # an event stream answers with its frames, not a document
            return HttpResponse(200, b"", {"content-type": "application/vnd.amazon.eventstream",
                                           "x-amzn-requestid": request_id}, stream=result[stream_member])
        document = self.codec.write(shape, result or {}) if shape is not None else {}
        return HttpResponse(200, self.codec.encode(document), self._headers(request_id))

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        body = self.codec.encode({"__type": error.code, "message": error.message})
        return HttpResponse(error.status, body, self._headers(request_id))

    @staticmethod
    def _headers(request_id: str) -> dict[str, str]:
        return {"content-type": AMZ_CBOR_CONTENT_TYPE, "x-amzn-requestid": request_id}

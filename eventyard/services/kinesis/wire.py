"""Kinesis's JSON 1.1 protocol, plus SubscribeToShard's response: an event stream, not a document."""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from eventyard.protocol.base import HttpResponse
from eventyard.protocol.json_protocol import JsonProtocol
from eventyard.protocol.models import service_model


class KinesisJsonProtocol(JsonProtocol):
    def __init__(self) -> None:
        super().__init__(service_model("kinesis"))

    def serialize(self, operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> HttpResponse:
        if operation.has_event_stream_output and result is not None:
            return HttpResponse(200, b"", {"content-type": "application/vnd.amazon.eventstream",
                                           "x-amzn-requestid": request_id}, stream=result["EventStream"])
        return super().serialize(operation, result, request_id)

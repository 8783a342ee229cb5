"""CloudWatch's three wire protocols, all from botocore's `cloudwatch` model.

The model lists `smithy-rpc-v2-cbor`, `json` and `query`, and clients use all of them: botocore picks
the first it supports in its own order (1.44 picks JSON 1.0 with `x-amzn-query-mode`, which the AWS
CLI v1 shares; botocore before CloudWatch's JSON move, and the older SDKs, speak query), the SDK for
JavaScript v3 and other Smithy SDKs speak RPC v2 CBOR. The model is `awsQueryCompatible`: JSON and
CBOR errors name the error shape in `__type` and carry the query-era code in `x-amzn-query-error`.
"""

from __future__ import annotations

import json

from botocore.model import OperationModel

from eventyard.protocol.base import HttpRequest, HttpResponse, ParsedRequest
from eventyard.protocol.compression import decompressed
from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import JsonProtocol
from eventyard.protocol.models import service_model
from eventyard.protocol.query_compatible import QueryCompatibility
from eventyard.protocol.query_protocol import QueryProtocol
from eventyard.protocol.rpc_v2_cbor import RpcV2CborProtocol
from eventyard.services.cloudwatch.errors import on_violations

SERVICE = "cloudwatch"
ERROR_NAMESPACE = "com.amazonaws.cloudwatch"


class CloudWatchJsonProtocol(JsonProtocol):
    def __init__(self) -> None:
        model = service_model(SERVICE)
        super().__init__(model, on_violations=on_violations)
        self.compatibility = QueryCompatibility(model)

    def parse(self, request: HttpRequest) -> ParsedRequest:
        return super().parse(decompressed(request))

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        shape = self.compatibility.shape_name(error.code, operation)
        body = {"__type": f"{ERROR_NAMESPACE}#{shape}", "message": error.message}
        headers = {"content-type": self.content_type, "x-amzn-requestid": request_id,
                   "x-amzn-query-error": self.compatibility.header(error)}
        return HttpResponse(error.status, json.dumps(body).encode(), headers)


class CloudWatchQueryProtocol(QueryProtocol):
    def parse(self, request: HttpRequest, form: dict[str, str] | None = None) -> ParsedRequest:
        return super().parse(decompressed(request), form)


def protocols() -> list[object]:
    model = service_model(SERVICE)
    return [
        CloudWatchJsonProtocol(),
        RpcV2CborProtocol(model, on_violations=on_violations, error_namespace=ERROR_NAMESPACE),
        CloudWatchQueryProtocol(model, on_violations=on_violations),
    ]

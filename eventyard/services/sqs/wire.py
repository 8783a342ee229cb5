"""SQS's wire quirks, kept apart from the generic protocols.

SQS moved from the query protocol to JSON 1.0, and botocore's current model dropped the traits the
query protocol needs. Older SDKs and raw form posts still speak query, and every client still
expects the query-era error codes (`AWS.SimpleQueueService.NonExistentQueue`), which JSON
responses carry in the `x-amzn-query-error` header.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from botocore.model import OperationModel

from eventyard.protocol.base import HttpRequest, HttpResponse, ParsedRequest
from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import JsonProtocol
from eventyard.protocol.models import patched_service_model, service_model
from eventyard.protocol.query_protocol import QueryProtocol
from eventyard.protocol.validation import Violation

# error shape name -> (query-era code, HTTP status), as SQS's query API documented them
LEGACY_ERRORS: dict[str, tuple[str, int]] = {
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    "OverLimit": ("OverLimit", 403),
    "UnknownOperationException": ("InvalidAction", 400),
    "KmsAccessDenied": ("KMS.AccessDeniedException", 400),
    "KmsDisabled": ("KMS.DisabledException", 400),
    "KmsInvalidKeyUsage": ("KMS.InvalidKeyUsageException", 400),
    "KmsInvalidState": ("KMS.InvalidStateException", 400),
    "KmsNotFound": ("KMS.NotFoundException", 400),
    "KmsOptInRequired": ("KMS.OptInRequired", 403),
    "KmsThrottled": ("KMS.ThrottlingException", 400),
    # Authentication (protocol/auth_errors.py): SQS answers these with the IAM-era codes, 403.
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
    "IncompleteSignatureException": ("IncompleteSignature", 400),
    "ExpiredTokenException": ("ExpiredToken", 403),
}

# Query-era serialization traits, by shape: the names older SDKs put on the wire.
_QUERY_TRAITS: dict[str, dict[str, Any]] = {
    "AWSAccountIdList": {"member": "AWSAccountId"},
    "ActionNameList": {"member": "ActionName"},
    "AttributeNameList": {"member": "AttributeName"},
    "MessageSystemAttributeList": {"member": "MessageSystemAttributeName"},
    "BatchResultErrorEntryList": {"member": "BatchResultErrorEntry"},
    "ChangeMessageVisibilityBatchRequestEntryList": {"member": "ChangeMessageVisibilityBatchRequestEntry"},
    "ChangeMessageVisibilityBatchResultEntryList": {"member": "ChangeMessageVisibilityBatchResultEntry"},
    "DeleteMessageBatchRequestEntryList": {"member": "DeleteMessageBatchRequestEntry"},
    "DeleteMessageBatchResultEntryList": {"member": "DeleteMessageBatchResultEntry"},
    "SendMessageBatchRequestEntryList": {"member": "SendMessageBatchRequestEntry"},
    "SendMessageBatchResultEntryList": {"member": "SendMessageBatchResultEntry"},
    "ListMessageMoveTasksResultEntryList": {"member": "ListMessageMoveTasksResultEntry"},
    "MessageAttributeNameList": {"member": "MessageAttributeName"},
    "MessageList": {"member": "Message"},
    "QueueUrlList": {"member": "QueueUrl"},
    "TagKeyList": {"member": "TagKey"},
    "StringList": {"member": "StringListValue", "flattened": False},
    "BinaryList": {"member": "BinaryListValue", "flattened": False},
    "QueueAttributeMap": {"name": "Attribute", "key": "Name", "value": "Value"},
    "MessageBodyAttributeMap": {"name": "MessageAttribute", "key": "Name", "value": "Value"},
    "MessageBodySystemAttributeMap": {"name": "MessageSystemAttribute", "key": "Name", "value": "Value"},
    "MessageSystemAttributeMap": {"name": "Attribute", "key": "Name", "value": "Value"},
    "TagMap": {"name": "Tag", "key": "Key", "value": "Value"},
}
# Members whose query name differs from the JSON name.
_QUERY_MEMBER_NAMES: dict[tuple[str, str], str] = {
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("ListQueueTagsResult", "Tags"): "Tag",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("MessageAttributeValue", "StringListValues"): "StringListValue",
    ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("MessageSystemAttributeValue", "StringListValues"): "StringListValue",
    ("MessageSystemAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("ReceiveMessageRequest", "AttributeNames"): "AttributeName",
    ("ReceiveMessageRequest", "MessageSystemAttributeNames"): "MessageSystemAttributeName",
    ("ReceiveMessageRequest", "MessageAttributeNames"): "MessageAttributeName",
}
_FLATTENED_MEMBERS = {("MessageAttributeValue", "StringListValues"), ("MessageAttributeValue", "BinaryListValues"),
                      ("MessageSystemAttributeValue", "StringListValues"),
                      ("MessageSystemAttributeValue", "BinaryListValues"), ("ListMessageMoveTasksResult", "Results")}


def _add_query_traits(raw: dict[str, Any]) -> None:
    raw["metadata"]["protocol"] = "query"
    raw["metadata"]["protocols"] = ["query"]
    raw["metadata"]["xmlNamespace"] = "http://queue.amazonaws.com/doc/2012-11-05/"
    shapes = raw["shapes"]
    for name, traits in _QUERY_TRAITS.items():
        shape = shapes.get(name)
        if shape is None:
            continue
        if shape["type"] == "list":
            shape["member"]["locationName"] = traits["member"]
            shape["flattened"] = traits.get("flattened", True)
        else:
            shape["locationName"] = traits["name"]
            shape["flattened"] = True
            shape["key"]["locationName"] = traits["key"]
            shape["value"]["locationName"] = traits["value"]
    for (shape_name, member), location in _QUERY_MEMBER_NAMES.items():
        ref = shapes.get(shape_name, {}).get("members", {}).get(member)
        if ref is not None:
            ref["locationName"] = location
    for shape_name, member in _FLATTENED_MEMBERS:
        ref = shapes.get(shape_name, {}).get("members", {}).get(member)
        if ref is not None:
            ref["flattened"] = True
    for op_name, op in raw["operations"].items():
        if "output" in op:
            op["output"]["resultWrapper"] = f"{op_name}Result"


# These errors carry another name in JSON's `__type` than their query code (recorded: botocore reads
# the query code from x-amzn-query-error as Code, and the `__type` as QueryErrorCode).
JSON_TYPE_NAMES = {"InvalidParameterValue": "InvalidParameterValueException",
                   "MissingParameter": "MissingRequiredParameterException",
                   "AccessDenied": "AccessDeniedException"}
# Query responses word a missing queue for "this wsdl version" (recorded).
QUERY_MESSAGES = {"QueueDoesNotExist": "The specified queue does not exist for this wsdl version."}


def legacy_code(error: AwsError) -> str:
    return LEGACY_ERRORS.get(error.code, (error.code, error.status))[0]


def violations_error(violations: list[Violation]) -> AwsError | None:
    """SQS names the first bad parameter; a missing one is MissingParameter. Attribute names outside
    the model's enums are the domain's to refuse (as InvalidAttributeName), so they pass here."""
    violations = [v for v in violations if not v.constraint.startswith("Member must satisfy enum")]
    if not violations:
        return None
    first = violations[0]
    if first.missing:
        return AwsError("MissingParameter", f"The request must contain the parameter {first.member}.")
    return AwsError(
        "InvalidParameterValue",
        f"Value {first.value} for parameter {first.member} is invalid. Reason: {first.constraint}.",
    )


def with_legacy_status(error: AwsError) -> AwsError:
    """The HTTP status SQS documents for the error (403 for PurgeQueueInProgress and OverLimit)."""
    if error.code in LEGACY_ERRORS:
        error.status = LEGACY_ERRORS[error.code][1]
    return error


class SqsJsonProtocol(JsonProtocol):
    def __init__(self) -> None:
        super().__init__(
            service_model("sqs"),
            on_violations=violations_error,
            error_type_prefix="com.amazonaws.sqs#",
            query_error_code=legacy_code,
        )

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        error = with_legacy_status(error)
        type_name = JSON_TYPE_NAMES.get(error.code)
        if type_name is not None:
            response = super().serialize_error(AwsError(type_name, error.message, error.status, error.sender_fault),
                                               operation, request_id)
            response.headers["x-amzn-query-error"] = f"{error.code};{'Sender' if error.sender_fault else 'Receiver'}"
            return response
        return super().serialize_error(error, operation, request_id)


# A queue's own URL path: `/<account>/<name>` or Eventyard's `/queue/<region>/<account>/<name>`.
_QUEUE_PATH = re.compile(r"^(?:/queue/[a-z0-9-]+)?/(\d{12})/([^/]+)/?$")
# What a queue's URL answers: the operations that act on one queue (recorded: others, such as
# CreateQueue or ListQueues sent to a queue's URL, are "not valid for this endpoint").
QUEUE_ACTIONS = frozenset({
    "AddPermission", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "DeleteMessage",
    "DeleteMessageBatch", "DeleteQueue", "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues",
    "ListQueueTags",
    "PurgeQueue", "ReceiveMessage", "RemovePermission", "SendMessage", "SendMessageBatch", "SetQueueAttributes",
    "TagQueue", "UntagQueue",
})


class NoAction(AwsError):
    """A request to a queue's URL without an Action: AWS answers 404 <UnknownOperationException/>."""

    def __init__(self) -> None:
        super().__init__("UnknownOperationException", "", 404)


class SqsQueryProtocol(QueryProtocol):
    def __init__(self) -> None:
        super().__init__(
            patched_service_model("sqs", _add_query_traits),
            on_violations=violations_error,
            wire_error_code=legacy_code,
            error_detail=True,
        )

    def parse(self, request: HttpRequest, form: dict[str, str] | None = None) -> ParsedRequest:
        form = self.form(request)
        if _QUEUE_PATH.match(request.path):
            # Query clients may address the queue by sending to its URL instead of sending QueueUrl;
            # that URL answers only the operations on one queue.
            action = form.get("Action")
            if not action:
                raise NoAction()
            if action not in QUEUE_ACTIONS:
                raise AwsError("InvalidAction", f"The action {action} is not valid for this endpoint.")
            if "QueueUrl" not in form:
                host = request.headers.get("host", "localhost")
                form["QueueUrl"] = f"http://{host}{request.path.rstrip('/')}"
        return super().parse(request, form)

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        if isinstance(error, NoAction):
            return HttpResponse(404, b'<?xml version="1.0"?><UnknownOperationException/>',
                                {"content-type": "text/xml", "x-amzn-requestid": request_id})
        error = with_legacy_status(error)
        if error.code in QUERY_MESSAGES:
            error = AwsError(error.code, QUERY_MESSAGES[error.code], error.status, error.sender_fault)
        return super().serialize_error(error, operation, request_id)


class SqsQueryJsonProtocol(SqsQueryProtocol):
    """The query API asked for JSON (`Accept: application/json` on a query request): AWS negotiates the
    content and answers the same document as JSON, `{"<Action>Response": {"<Action>Result": ...}}`."""

    def accepts(self, request: HttpRequest) -> bool:
        if "x-amz-target" in request.headers or "application/json" not in request.headers.get("accept", ""):
            return False
        return "Action=" in request.query_string or (request.method == "POST" and b"Action=" in request.body)

    def serialize(self, operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> HttpResponse:
        name = operation.name
        document = {f"{name}Response": {f"{name}Result": result or {},
                                        "ResponseMetadata": {"RequestId": request_id}}}
        return _json_response(200, document, request_id)

    def serialize_error(self, error: AwsError, operation: OperationModel | None, request_id: str) -> HttpResponse:
        error = with_legacy_status(error)
        fault = "Sender" if error.sender_fault else "Receiver"
        document = {"Error": {"Type": fault, "Code": legacy_code(error), "Message": error.message},
                    "RequestId": request_id}
        return _json_response(error.status, document, request_id)


def _json_response(status: int, document: dict[str, Any], request_id: str) -> HttpResponse:
    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        raise TypeError(type(value).__name__)

    return HttpResponse(status, json.dumps(document, default=plain).encode(),
                        {"content-type": "application/json", "x-amzn-requestid": request_id})

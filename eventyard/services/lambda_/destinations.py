"""Sending invocation records to destinations (SQS, SNS, EventBridge, Lambda) and DLQs, in AWS's
record format, through the other services' own operations."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from eventyard.protocol.errors import AwsError


def iso(now: float) -> str:
    moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def record(now: float, request_id: str, function_arn: str, condition: str, attempts: int,
           payload: bytes, response: bytes | None, version: str, function_error: str | None) -> dict[str, Any]:
    """AWS's asynchronous invocation record (the body an OnSuccess/OnFailure destination gets)."""
    doc: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso(now),
        "requestContext": {"requestId": request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
        "requestPayload": _json_or_text(payload),
    }
    if attempts == 0:  # never invoked (ZeroReservedConcurrency): no response to describe
        return doc
    doc["responseContext"] = {"statusCode": 200, "executedVersion": version}
    if function_error:
        doc["responseContext"]["functionError"] = function_error
    if response is not None:
        doc["responsePayload"] = _json_or_text(response)
    return doc


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


def _arn_parts(arn: str) -> tuple[str, str, str, str]:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        raise AwsError("InvalidParameterValueException", f"Invalid destination ARN {arn}")
    return parts[2], parts[3], parts[4], parts[5]


async def send(platform: Any, destination: str, doc: dict[str, Any], success: bool,
               trace_header: str | None = None) -> None:
    service, region, account, resource = _arn_parts(destination)
    body = json.dumps(doc)
    headers = {"x-amzn-trace-id": trace_header} if trace_header else None
    if service == "sqs":
        url = (await platform.call("sqs", "GetQueueUrl", {"QueueName": resource, "QueueOwnerAWSAccountId": account},
                                   region=region, account_id=account))["QueueUrl"]
        await platform.call("sqs", "SendMessage", {"QueueUrl": url, "MessageBody": body}, region=region,
                            account_id=account, headers=headers)
    elif service == "sns":
        await platform.call("sns", "Publish", {"TopicArn": destination, "Message": body}, region=region,
                            account_id=account, headers=headers)
    elif service == "events":
        kind = "Success" if success else "Failure"
        await platform.call("events", "PutEvents", {"Entries": [{
            "Source": "lambda", "DetailType": f"Lambda Function Invocation Result - {kind}", "Detail": body,
            "Resources": [doc["requestContext"]["functionArn"]], "EventBusName": destination}]},
            region=region, account_id=account, headers=headers)
    elif service == "lambda":
        await platform.call("lambda", "Invoke", {"FunctionName": destination, "InvocationType": "Event",
                                                 "Payload": body.encode()}, region=region, account_id=account,
                            headers=headers)
    else:
        raise AwsError("InvalidParameterValueException", f"Unsupported destination {destination}")


async def send_to_dlq(platform: Any, target: str, payload: bytes, request_id: str, error_code: str,
                      error_message: str) -> None:
    """A dead-letter queue or topic gets the original event, with the failure in attributes."""
    service, region, account, resource = _arn_parts(target)
    attributes = {"RequestID": {"DataType": "String", "StringValue": request_id},
                  "ErrorCode": {"DataType": "Number", "StringValue": error_code},
                  "ErrorMessage": {"DataType": "String", "StringValue": error_message[:1024] or "error"}}
    body = payload.decode("utf-8", "replace")
    if service == "sqs":
        url = (await platform.call("sqs", "GetQueueUrl", {"QueueName": resource, "QueueOwnerAWSAccountId": account},
                                   region=region, account_id=account))["QueueUrl"]
        await platform.call("sqs", "SendMessage", {"QueueUrl": url, "MessageBody": body,
                                                   "MessageAttributes": attributes}, region=region, account_id=account)
    elif service == "sns":
        await platform.call("sns", "Publish", {"TopicArn": target, "Message": body, "MessageAttributes": attributes},
                            region=region, account_id=account)

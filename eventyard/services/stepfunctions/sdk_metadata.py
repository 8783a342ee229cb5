"""How AWS's optimized integrations show a service's answer: the Java SDK's response metadata
(`SdkHttpMetadata`, `SdkResponseMetadata`) beside the result, with the length of the answer AWS
sent on the wire, and the Java SDK's number and time formats."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from eventyard.runtime import tracing

if TYPE_CHECKING:
    from eventyard.services.stepfunctions.host import ServiceHost


def java_double(value: float) -> str:
    """A double as Java writes it (Double.toString, which AWS's JSON answers use): plain between
    10^-3 and 10^7 ("1701.5"), else computerized scientific notation ("1.701234567891E9")."""
    number = float(value)
    if number == 0:
        return "0.0"
    if 1e-3 <= abs(number) < 1e7:
        text = repr(number)
        return text if "." in text else f"{text}.0"
    sign, digits, exponent = Decimal(repr(number)).as_tuple()
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = int(exponent) + len(digits) - 1
    return f"{'-' if sign else ''}{shown[0]}.{shown[1:] or '0'}E{power}"


def iso_instant(value: Any) -> Any:
    """An epoch-seconds time as the aws-sdk integrations show it (Java's Instant.toString:
    UTC, with the fraction of a second only when there is one)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    millis = round(float(value) * 1000)
    moment = datetime.fromtimestamp(millis // 1000, UTC)
    fraction = f".{millis % 1000:03d}" if millis % 1000 else ""
    return f"{moment:%Y-%m-%dT%H:%M:%S}{fraction}Z"


def json_length(result: dict[str, Any], request_id: str) -> int:
    return len(json.dumps(result, separators=(",", ":")).encode())


def sns_publish_length(result: dict[str, Any], request_id: str) -> int:
    """The length of SNS's XML Publish answer as AWS formats it (two-space indentation)."""
    lines = ['<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">', "  <PublishResult>",
             f"    <MessageId>{result.get('MessageId', '')}</MessageId>"]
    if result.get("SequenceNumber"):
        lines.append(f"    <SequenceNumber>{result['SequenceNumber']}</SequenceNumber>")
    lines += ["  </PublishResult>", "  <ResponseMetadata>", f"    <RequestId>{request_id}</RequestId>",
              "  </ResponseMetadata>", "</PublishResponse>"]
    return len(("\n".join(lines) + "\n").encode())


def start_execution_length(result: dict[str, Any], request_id: str) -> int:
    """The length of StartExecution's JSON answer as AWS sends it (startDate a Java double)."""
    body = (f'{{"executionArn":{json.dumps(result["ExecutionArn"])},'
            f'"startDate":{java_double(result["StartDate"] / 1000)}}}')
    return len(body.encode())


def with_sdk_metadata(host: ServiceHost, result: dict[str, Any], content_type: str,
                      length_of: Callable[[dict[str, Any], str], int] = json_length) -> dict[str, Any]:
    """An answer with the Java SDK's response metadata, as AWS's optimized integrations pass it on
    (the body length is that of AWS's answer on the wire)."""
    request_id = str(uuid.uuid4())
    length = length_of(result, request_id)
    headers = {"x-amzn-RequestId": request_id, "connection": "keep-alive", "Content-Length": str(length),
               "Date": formatdate(host.now(), usegmt=True), "Content-Type": content_type}
    return {**result, "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()},
                                          "HttpHeaders": headers, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id}}


def lambda_http_metadata(host: ServiceHost, version: str, length: int, status: int, request_id: str,
                         log_result: str | None = None) -> dict[str, Any]:
    """The Invoke answer's HTTP metadata as AWS's optimized Lambda integration passes it on (the
    Java SDK's headers: each once as a value and once as a list of values)."""
    now = host.now()
    received = tracing.parse(host.trace)
    root = received.root if received else f"1-{int(now):08x}-{uuid.uuid4().hex[:24]}"
    trace = f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled={(received and received.sampled) or '0'}"
    headers = {"Connection": "keep-alive", "Content-Length": str(length), "Content-Type": "application/json",
               "Date": formatdate(now, usegmt=True), "X-Amz-Executed-Version": version,
               "x-amzn-Remapped-Content-Length": "0", "x-amzn-RequestId": request_id,
               "X-Amzn-Trace-Id": trace}
    if log_result is not None:  # LogType Tail: the log's tail comes as a header too
        headers["X-Amz-Log-Result"] = log_result
    return {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers, "HttpStatusCode": status}

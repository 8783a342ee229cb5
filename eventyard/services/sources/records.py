"""Source records as AWS's pollers hand them on, and the filters that run on them.

Lambda event source mappings and EventBridge Pipes see the same SQS record; a Kinesis record is the
same data, nested under `kinesis` for Lambda and flat for Pipes. Filters match the record with the
SQS `body` or Kinesis `data` parsed when it is JSON (AWS's "implicit body parsing").
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from eventyard.patterns import Pattern, compile_event_pattern


def compile_filters(filter_criteria: dict[str, Any] | None) -> list[Pattern]:
    return [compile_event_pattern(f["Pattern"]) for f in (filter_criteria or {}).get("Filters") or []]


def parsed_view(record: dict[str, Any], data_key: str) -> dict[str, Any]:
    """The record with its body (SQS) or data (Kinesis, base64) parsed when it is JSON."""
    view = dict(record)
    raw: Any = record.get(data_key)
    try:
        text = base64.b64decode(raw, validate=True).decode() if data_key == "data" else raw
        view[data_key] = json.loads(text)
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    return view


def passes(filters: list[Pattern], record: dict[str, Any], data_key: str) -> bool:
    """AWS matches filters on the record with its body/data parsed when it is JSON."""
    if not filters:
        return True
    view = parsed_view(record, data_key)
    return any(f.matches(view) for f in filters)


def passes_kinesis_data(filters: list[Pattern], data: bytes) -> bool:
    """AWS filters Kinesis records on the `data` key only, with the data parsed when it is JSON."""
    if not filters:
        return True
    try:
        value: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        value = base64.b64encode(data).decode()
    return any(f.matches({"data": value}) for f in filters)


def sqs_record(message: dict[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    """One message as AWS's SQS pollers pass it on (Lambda's `Records` entry, a Pipes event)."""
    attributes = dict(message.get("Attributes") or {})
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        item: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            item["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = item
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": attributes, "messageAttributes": message_attributes,
            "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),  # null without attributes, as AWS
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": source_arn,
            "awsRegion": region}


def kinesis_data(raw: dict[str, Any]) -> dict[str, Any]:
    """The `kinesis` part of a record: what GetRecords returned, in AWS's event spelling."""
    return {"kinesisSchemaVersion": "1.0", "partitionKey": raw["PartitionKey"],
            "sequenceNumber": raw["SequenceNumber"], "data": base64.b64encode(raw["Data"]).decode(),
            "approximateArrivalTimestamp": raw["ApproximateArrivalTimestamp"]}


def kinesis_envelope(shard_id: str, sequence: str, stream_arn: str, region: str, role: str) -> dict[str, Any]:
    return {"eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard_id}:{sequence}",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": role, "awsRegion": region,
            "eventSourceARN": stream_arn}


def lane(partition_key: str, lanes: int) -> int:
    """ParallelizationFactor: a partition key always reads in the same lane, so its order holds."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest()[:4], "big") % lanes


def first_failed_index(payload: bytes, identifiers: list[str]) -> int | None:
    """`batchItemFailures`: the index the retry starts at (the lowest reported), None when the
    batch succeeded. An identifier that is missing or not in the batch fails the whole batch."""
    try:
        document = json.loads(payload) if payload else None
    except ValueError:
        return 0
    if not isinstance(document, dict) or not document.get("batchItemFailures"):
        return None
    index = {identifier: i for i, identifier in enumerate(identifiers)}
    lowest = len(identifiers)
    for item in document["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in index:
            return 0
        lowest = min(lowest, index[identifier])
    return lowest


def failed_identifiers(payload: bytes, identifiers: list[str]) -> set[str]:
    """`batchItemFailures` for unordered sources (SQS): the failed ids; a malformed answer or an
    unknown id fails the whole batch."""
    try:
        document = json.loads(payload) if payload else None
    except ValueError:
        return set(identifiers)
    if not isinstance(document, dict) or not document.get("batchItemFailures"):
        return set()
    known = set(identifiers)
    failed = set()
    for item in document["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in known:
            return known
        failed.add(identifier)
    return failed

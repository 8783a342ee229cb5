"""Publish and PublishBatch: AWS's validation, and the message document every delivery reads.

The document is built before the transaction; `fan_out` then (inside one transaction) applies FIFO
deduplication, picks the matching subscriptions and writes the message with its deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventyard.protocol.values import iso8601
from eventyard.runtime.ids import new_uuid
from eventyard.services.sns import outbox
from eventyard.services.sns.errors import invalid_parameter, invalid_value
from eventyard.services.sns.filters import FilterIndex
from eventyard.services.sns.topics import Topic, next_sequence_number
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.services.sns.direct import DirectSqs

MAX_MESSAGE_BYTES = 256 * 1024
DEDUP_WINDOW = 300.0  # FIFO topics drop a repeated deduplication id for five minutes
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")
# A data type is Binary, Number or String, optionally followed by "." and a custom label.
_DATA_TYPE = re.compile(r"(String|Number|Binary)(?:\..+)?", re.DOTALL)
_FIFO_ID = re.compile(r"^[\x21-\x7e]{1,128}$")  # alphanumerics and punctuation, 1-128


@dataclass
class Outgoing:
    """A validated message about to be published."""

    document: dict[str, Any]
    group_id: str | None
    dedup_id: str | None


def _check_attribute_name(name: str) -> None:
    """AWS's wording for each way a message attribute name can be wrong (recorded)."""
    if len(name.encode()) > 256:
        raise invalid_value("Length of message attribute name must be less than 256 bytes.")
    bad = next((c for c in name if not _NAME_CHAR.match(c)), None)
    if bad is not None:
        raise invalid_value(f"Invalid non-alphanumeric character '#x{ord(bad):X}' was found in the message attribute "
                            "name. Can only include alphanumeric characters, hyphens, underscores, or dots.")
    if name.startswith("."):
        raise invalid_value("Invalid message attribute name starting with character '.' was found.")
    if name.endswith("."):
        raise invalid_value("Invalid message attribute name ending with character '.' was found.")
    if ".." in name:
        raise invalid_value("Message attribute name can not have successive '.' character.")
    if not name or name.startswith(("AWS.", "Amazon.")):
        raise invalid_value(f"The message attribute name '{name}' is invalid.")


def _attribute_value(name: str, value: dict[str, Any]) -> tuple[str, Any]:
    """The field that carries the value ("StringValue" or "BinaryValue") and the value, or AWS's error."""
    data_type = value.get("DataType") or ""
    if not data_type:
        raise invalid_value(f"The message attribute '{name}' must contain non-empty message attribute type.")
    match = _DATA_TYPE.fullmatch(data_type)
    if match is None:
        raise invalid_value(f"The message attribute '{name}' has an invalid message attribute type, the set of "
                            "supported type prefixes is Binary, Number, and String.")
    base = match.group(1)
    field, other = ("BinaryValue", "StringValue") if base == "Binary" else ("StringValue", "BinaryValue")
    given = value.get(field)
    if given is None and value.get(other) is not None:
        wanted = "Binary" if base == "Binary" else "String"
        raise invalid_value(f"The message attribute '{name}' with type '{base}' must use field '{wanted}'.")
    if not given:
        raise invalid_value(f"The message attribute '{name}' must contain non-empty message attribute "
                            f"value for message attribute type '{base}'.")
    return field, given


def validate_message_attributes(attributes: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], int]:
    """Attributes as stored (binaries base64) and their size in bytes, or AWS's error."""
    stored: dict[str, dict[str, Any]] = {}
    size = 0
    for name, value in attributes.items():
        _check_attribute_name(name)
        field, given = _attribute_value(name, value)
        data_type = value["DataType"]
        size += len(name.encode()) + len(data_type.encode())
        if field == "BinaryValue":
            stored[name] = {"DataType": data_type, "BinaryValue": base64.b64encode(given).decode()}
            size += len(given)
            continue
        text = given
        if data_type.startswith("Number"):
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise invalid_value(f"Could not cast message attribute '{name}' value to number.")
        if data_type == "String.Array":
            try:
                items = json.loads(text)
            except ValueError:
                items = None
            if not isinstance(items, list) or any(isinstance(i, (dict, list)) for i in items):
                raise invalid_parameter("Message attributes",
                                        f"The message attribute '{name}' with type 'String.Array' has an "
                                        "invalid value. Value must be a JSON array of strings, numbers, "
                                        "booleans or null.")
        stored[name] = {"DataType": data_type, "StringValue": text}
        size += len(text.encode())
    return stored, size


def _structured(message: str) -> dict[str, Any]:
    try:
        messages = json.loads(message)
    except ValueError:
        raise invalid_parameter("Message Structure - JSON message body failed to parse") from None
    if not isinstance(messages, dict):
        raise invalid_parameter("Message Structure - JSON message body failed to parse")
    # Only text entries count: a non-text "default" is no default entry (recorded against AWS).
    messages = {k: v for k, v in messages.items() if isinstance(v, str)}
    if "default" not in messages:
        raise invalid_parameter("Message Structure - No default entry in JSON message body")
    return messages


def prepare(topic: Topic | None, params: dict[str, Any], now: float, trace_header: str | None,
            topic_arn: str) -> Outgoing:
    """Validate one message (Publish, or one PublishBatch entry) and build its document."""
    message = params.get("Message")
    if message is None or message == "":
        raise invalid_parameter("Empty message")
    subject = params.get("Subject")
    if subject is not None and (not 1 <= len(subject) <= 100 or not subject.isprintable() or not subject.isascii()):
        raise invalid_parameter("Subject")
    messages: dict[str, Any] | None = None
    structure = params.get("MessageStructure")
    if structure is not None:
        if structure != "json":
            raise invalid_parameter("MessageStructure")
        messages = _structured(message)
    attributes, attributes_size = validate_message_attributes(params.get("MessageAttributes") or {})
    if len(message.encode()) + attributes_size > MAX_MESSAGE_BYTES:
        raise invalid_parameter("Message too long")
    group_id, dedup_id = params.get("MessageGroupId"), params.get("MessageDeduplicationId")
    if topic is not None and topic.fifo:
        if not group_id:
            raise invalid_parameter("The MessageGroupId parameter is required for FIFO topics")
        if not _FIFO_ID.match(group_id):
            raise invalid_parameter("MessageGroupId", "MessageGroupId can only include alphanumeric and "
                                    "punctuation characters. 1 to 128 in length.")
        if dedup_id is None:
            if not topic.content_based_dedup:
                raise invalid_parameter("The topic should either have ContentBasedDeduplication enabled or "
                                        "MessageDeduplicationId provided explicitly")
            # Content-based deduplication: the SHA-256 of the message body.
            dedup_id = hashlib.sha256(message.encode()).hexdigest()
        elif not _FIFO_ID.match(dedup_id):
            raise invalid_parameter("MessageDeduplicationId", "MessageDeduplicationId can only include "
                                    "alphanumeric and punctuation characters. 1 to 128 in length.")
    else:
        if dedup_id is not None:
            raise invalid_parameter("MessageDeduplicationId", "The request includes MessageDeduplicationId "
                                    "parameter that is not valid for this topic type")
        # Standard topics accept a MessageGroupId and pass it on to SQS queues (fair queues), as AWS does.
        if group_id is not None and not _FIFO_ID.match(group_id):
            raise invalid_parameter("MessageGroupId", "MessageGroupId can only include alphanumeric and "
                                    "punctuation characters. 1 to 128 in length.")
    document: dict[str, Any] = {
        "Type": "Notification", "MessageId": new_uuid(), "TopicArn": topic_arn, "Subject": subject,
        "Message": message, "Messages": messages, "Timestamp": iso8601(now), "MessageAttributes": attributes,
        "MessageGroupId": group_id, "MessageDeduplicationId": dedup_id, "TraceHeader": trace_header,
    }
    return Outgoing(document, group_id, dedup_id)


def fan_out(conn: Connection, filters: FilterIndex, topic: Topic, outgoing: Outgoing,
            now: float, claimed: list[outbox.Claimed] | None = None,
            filtered: Counter[str] | None = None, direct: DirectSqs | None = None) -> tuple[str, str | None, int]:
    """Commit the message and one delivery per matching subscription (or find it a duplicate); with
    `direct`, the SQS deliveries it can make in this transaction are made here instead (direct.py).

    Returns (MessageId, SequenceNumber, deliveries made or scheduled)."""
    document = outgoing.document
    sequence = None
    if topic.fifo:
        assert outgoing.dedup_id is not None
        seen = conn.execute(
            "SELECT message_id, sequence_number FROM sns_dedup WHERE topic_arn = ? AND dedup_id = ? AND expires_at > ?",
            (topic.arn, outgoing.dedup_id, now),
        ).fetchone()
        if seen is not None:  # accepted, but not delivered again (AWS FIFO deduplication)
            return seen[0], seen[1], 0
        sequence = next_sequence_number(conn, topic)
        document["SequenceNumber"] = sequence
        conn.execute("INSERT INTO sns_dedup (topic_arn, dedup_id, message_id, sequence_number, expires_at)"
                     " VALUES (?, ?, ?, ?, ?) ON CONFLICT (topic_arn, dedup_id) DO UPDATE SET"
                     " message_id = excluded.message_id, sequence_number = excluded.sequence_number,"
                     " expires_at = excluded.expires_at",
                     (topic.arn, outgoing.dedup_id, document["MessageId"], sequence, now + DEDUP_WINDOW))
    body = document["Messages"]["default"] if document.get("Messages") else document["Message"]
    targets = filters.matching(conn, topic.arn, document["MessageAttributes"], body, filtered)
    matched = len(targets)
    if direct is not None and targets:
        targets = direct.deliver(conn, topic, document, targets, now)
    # Only FIFO topics order a group's deliveries; a standard topic's group id just travels along.
    outbox.enqueue(conn, document, targets, outgoing.group_id if topic.fifo else None, now, claimed)
    return document["MessageId"], sequence, matched

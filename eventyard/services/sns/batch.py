"""PublishBatch: the batch-level checks (AWS's batch error codes) and per-entry results."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from eventyard.protocol.errors import AwsError
from eventyard.services.sns import outbox, publish
from eventyard.services.sns.filters import FilterIndex
from eventyard.services.sns.topics import Topic
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.services.sns.direct import DirectSqs

MAX_ENTRIES = 10
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def validate_entries(entries: list[dict[str, Any]]) -> None:
    if not entries:
        raise AwsError("EmptyBatchRequest", "The batch request doesn't contain any entries.")
    if len(entries) > MAX_ENTRIES:
        raise AwsError("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")
    ids = [e.get("Id", "") for e in entries]
    if len(set(ids)) != len(ids):
        raise AwsError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
    for entry_id in ids:
        if len(entry_id) > 80:
            raise AwsError("InvalidBatchEntryId", f"The Id of a batch entry in the batch request is too long: {entry_id}")
        if not _ENTRY_ID.match(entry_id):
            raise AwsError("InvalidBatchEntryId", "The Id of a batch entry in the batch request contains an "
                           f"impermissible character: {entry_id}")
    total = 0
    for entry in entries:
        total += len(entry.get("Message", "").encode())
        for name, value in (entry.get("MessageAttributes") or {}).items():
            total += len(name.encode()) + len(str(value.get("DataType", "")).encode())
            total += len(value.get("StringValue") or "") + len(value.get("BinaryValue") or b"")
    if total > publish.MAX_MESSAGE_BYTES:
        raise AwsError("BatchRequestTooLong", "The length of all the messages put together is more than the limit.")


def publish_entries(conn: Connection, filters: FilterIndex, topic: Topic, entries: list[dict[str, Any]],
                    now: float, trace_header: str | None, claimed: list[outbox.Claimed] | None = None,
                    filtered: Counter[str] | None = None, direct: DirectSqs | None = None) -> tuple[dict[str, Any], int]:
    # An invalid entry fails the whole request before anything is published (recorded against AWS).
    prepared = [publish.prepare(topic, entry, now, trace_header, topic.arn) for entry in entries]
    successful: list[dict[str, Any]] = []
    scheduled = 0
    for entry, outgoing in zip(entries, prepared, strict=True):
        message_id, sequence, count = publish.fan_out(conn, filters, topic, outgoing, now, claimed, filtered, direct)
        scheduled += count
        result = {"Id": entry["Id"], "MessageId": message_id}
        if sequence:
            result["SequenceNumber"] = sequence
        successful.append(result)
    return {"Successful": successful, "Failed": []}, scheduled

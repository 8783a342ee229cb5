"""Batch requests: SQS's checks of the whole batch, and per-entry results."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.storage import Connection

MAX_ENTRIES = 10
MAX_BATCH_BYTES = 1_048_576
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def check_batch(entries: list[dict[str, Any]], entry_shape: str) -> None:
    if not entries:
        raise AwsError("EmptyBatchRequest", f"There should be at least one {entry_shape} in the request.")
    if len(entries) > MAX_ENTRIES:
        raise AwsError("TooManyEntriesInBatchRequest",
                       f"Maximum number of entries per request are {MAX_ENTRIES}. You have sent {len(entries)}.")
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry["Id"]
        if entry_id in seen:
            raise AwsError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)
        if not _ENTRY_ID.match(entry_id):
            raise AwsError("InvalidBatchEntryId",
                           "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                           "It can be at most 80 letters long.")


def check_batch_size(total: int) -> None:
    if total > MAX_BATCH_BYTES:
        raise AwsError("BatchRequestTooLong",
                       f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes.")


def check_fifo_entries(messages: list[Any], content_based_dedup: bool) -> None:
    """A FIFO batch with an entry missing its group or deduplication id is refused whole (recorded)."""
    for message in messages:
        if not message.group_id:
            raise AwsError("InvalidParameterValue", "The request must contain the parameter MessageGroupId.")
    for message in messages:
        if not message.dedup_id and not content_based_dedup:
            raise AwsError("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled "
                           "or MessageDeduplicationId provided explicitly")


def failure(entry_id: str, error: AwsError) -> dict[str, Any]:
    # A batch entry's invalid parameters "cannot be validated" where SendMessage says "are invalid" (recorded).
    message = error.message.replace("One or more parameters are invalid.", "One or more parameters cannot be validated.")
    return {"Id": entry_id, "SenderFault": error.sender_fault, "Code": error.code, "Message": message}


def _answer(successful: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """AWS leaves an empty list out of a batch answer."""
    return {k: v for k, v in (("Successful", successful), ("Failed", failed)) if v}


def results(entries: list[dict[str, Any]], outcomes: list[dict[str, Any] | AwsError]) -> dict[str, list[dict[str, Any]]]:
    """The batch answer: each entry's outcome, successful or failed, under its Id."""
    successful, failed = [], []
    for entry, outcome in zip(entries, outcomes, strict=True):
        if isinstance(outcome, AwsError):
            failed.append(failure(entry["Id"], outcome))
        else:
            successful.append({"Id": entry["Id"], **outcome})
    return _answer(successful, failed)


def run_entries(conn: Connection, entries: list[dict[str, Any]],
                action: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Apply `action` to each entry; an AWS error fails (and rolls back) only that entry, as SQS does."""
    successful, failed = [], []
    for entry in entries:
        conn.execute("SAVEPOINT batch_entry")
        try:
            successful.append({"Id": entry["Id"], **action(entry)})
        except AwsError as error:
            conn.execute("ROLLBACK TO batch_entry")
            failed.append(failure(entry["Id"], error))
        conn.execute("RELEASE batch_entry")
    return _answer(successful, failed)

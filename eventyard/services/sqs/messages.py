"""Messages: send, claim (receive), delete, change visibility, dead-letter moves and retention.

A message is visible when `available_at <= now`; a receive claims it by pushing `available_at` to
now + visibility timeout and minting a fresh receipt token. Every function runs inside one storage
transaction, so a claim is atomic and two consumers never hold the same message at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ids import new_token, new_uuid
from eventyard.services.sqs import bookkeeping
from eventyard.services.sqs import queues as queue_store
from eventyard.services.sqs.message_attributes import attributes_md5, attributes_size, check_characters, md5_hex
from eventyard.services.sqs.queues import Queue
from eventyard.storage import Connection, Row, skip_locked

DEDUP_WINDOW = 300.0  # FIFO deduplication interval: 5 minutes
RECEIVE_ATTEMPT_WINDOW = 300.0


@dataclass
class OutgoingMessage:
    body: str
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    system_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    delay_seconds: int | None = None
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass
class SendResult:
    message_id: str
    body_md5: str
    attributes_md5: str | None
    system_attributes_md5: str | None
    sequence_number: str | None


@dataclass
class ReceivedMessage:
    message_id: str
    receipt_handle: str
    body: str
    body_md5: str
    attributes: dict[str, dict[str, Any]]
    system: dict[str, str]


def validate_outgoing(queue: Queue, message: OutgoingMessage) -> None:
    """SQS's checks of one message against its queue (shared by SendMessage and each batch entry)."""
    if message.body == "":
        raise AwsError("MissingParameter", "The request must contain the parameter MessageBody.")
    check_characters(message.body)
    size = len(message.body.encode()) + attributes_size(message.attributes)
    limit = queue.int_attr("MaximumMessageSize")
    if size > limit:
        raise AwsError(
            "InvalidParameterValue",
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.",
        )
    # The id formats are checked first: an empty id is malformed, not missing (recorded).
    for name, value in (("MessageGroupId", message.group_id), ("MessageDeduplicationId", message.dedup_id)):
        if value is not None and (not 1 <= len(value) <= 128 or not all(33 <= ord(c) <= 126 for c in value)):
            raise AwsError("InvalidParameterValue",
                           f"Value {value} for parameter {name} is invalid. Reason: {name} can only include "
                           "alphanumeric and punctuation characters. 1 to 128 in length.")
    if message.delay_seconds is not None:
        if queue.fifo and message.delay_seconds != 0:  # FIFO queues take DelaySeconds=0 (recorded)
            raise AwsError(
                "InvalidParameterValue",
                f"Value {message.delay_seconds} for parameter DelaySeconds is invalid. Reason: The request "
                "include parameter that is not valid for this queue type.",
            )
        if not 0 <= message.delay_seconds <= 900:
            raise AwsError(
                "InvalidParameterValue",
                f"Value {message.delay_seconds} for parameter DelaySeconds is invalid. Reason: DelaySeconds "
                "must be >= 0 and <= 900.",
            )
    if queue.fifo:
        if not message.group_id:
            raise AwsError("MissingParameter", "The request must contain the parameter MessageGroupId.")
        if not message.dedup_id and not queue.content_based_dedup:
            raise AwsError(
                "InvalidParameterValue",
                "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                "provided explicitly",
            )
    elif message.dedup_id is not None:
        raise AwsError(
            "InvalidParameterValue",
            "Value for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter "
            "that is not valid for this queue type.",
        )


_INSERT_MESSAGE = (
    "INSERT INTO sqs_messages (queue_id, message_id, body, body_md5, attributes, system_attributes, sent_at,"
    " available_at, expires_at, group_id, dedup_id, sequence_number, sender_id, is_head)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def send_batch(conn: Connection, queue: Queue, batch: list[OutgoingMessage], now: float,
               sender_id: str) -> list[SendResult | AwsError]:
    """Send each message, or say why not: one result per message, in order.

    Standard queues validate every message first and store the valid ones with one statement;
    FIFO messages go one at a time, because deduplication and sequence numbers follow their order.
    """
    results: list[SendResult | AwsError] = []
    rows: list[tuple[Any, ...]] = []
    for message in batch:
        try:
            if queue.fifo:
                results.append(send(conn, queue, message, now, sender_id))
                continue
            validate_outgoing(queue, message)
        except AwsError as error:
            results.append(error)
            continue
        row, result = _standard_row(queue, message, now, sender_id)
        rows.append(row)
        results.append(result)
    if rows:
        conn.executemany(_INSERT_MESSAGE, rows)
        bookkeeping.added(conn, queue.id, len(rows))
    return results


def _standard_row(queue: Queue, message: OutgoingMessage, now: float,
                  sender_id: str) -> tuple[tuple[Any, ...], SendResult]:
    message_id = new_uuid()
    body_md5 = md5_hex(message.body.encode())
    delay = message.delay_seconds if message.delay_seconds is not None else queue.int_attr("DelaySeconds")
    row = (
        queue.id, message_id, message.body, body_md5, _dump_attributes(message.attributes),
        _dump_attributes(message.system_attributes), now, now + delay,
        now + queue.int_attr("MessageRetentionPeriod"), message.group_id, None, None, sender_id, 0,
    )
    result = SendResult(message_id, body_md5, attributes_md5(message.attributes),
                        attributes_md5(message.system_attributes), None)
    return row, result


def send(conn: Connection, queue: Queue, message: OutgoingMessage, now: float, sender_id: str) -> SendResult:
    """Send one message. Every check runs before the first write, so a refused message leaves no trace."""
    validate_outgoing(queue, message)
    if not queue.fifo:
        row, result = _standard_row(queue, message, now, sender_id)
        conn.execute(_INSERT_MESSAGE, row)
        bookkeeping.added(conn, queue.id)
        return result
    body_md5 = md5_hex(message.body.encode())
    attrs_md5 = attributes_md5(message.attributes)
    system_md5 = attributes_md5(message.system_attributes)
    sequence_number = None
    dedup_id = message.dedup_id
    if queue.fifo:
        if dedup_id is None:
            dedup_id = hashlib.sha256(message.body.encode()).hexdigest()
        # A space never occurs in either id (printable ASCII without it), and PostgreSQL text holds no NUL.
        dedup_key = f"{message.group_id} {dedup_id}" if queue.dedup_per_group else dedup_id
        earlier = conn.execute(
            "SELECT message_id, sequence_number FROM sqs_dedup WHERE queue_id = ? AND dedup_key = ? AND expires_at > ?",
            (queue.id, dedup_key, now),
        ).fetchone()
        if earlier is not None:  # accepted again, delivered once
            return SendResult(earlier[0], body_md5, attrs_md5, system_md5, earlier[1])
        sequence = conn.execute(
            "UPDATE sqs_queues SET next_sequence = next_sequence + 1 WHERE id = ? RETURNING next_sequence - 1",
            (queue.id,),
        ).fetchone()[0]
        sequence_number = f"{sequence:020d}"
    message_id = new_uuid()
    if queue.fifo:
        conn.execute(
            "INSERT INTO sqs_dedup (queue_id, dedup_key, message_id, sequence_number, expires_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (queue_id, dedup_key) DO UPDATE SET message_id = excluded.message_id,"
            " sequence_number = excluded.sequence_number, expires_at = excluded.expires_at",
            (queue.id, dedup_key, message_id, sequence_number, now + DEDUP_WINDOW),
        )
    delay = queue.int_attr("DelaySeconds")  # FIFO queues have no per-message delay
    conn.execute(_INSERT_MESSAGE, (
        queue.id, message_id, message.body, body_md5, _dump_attributes(message.attributes),
        _dump_attributes(message.system_attributes), now, now + delay,
        now + queue.int_attr("MessageRetentionPeriod"), message.group_id, dedup_id, sequence_number, sender_id,
        int(bookkeeping.is_first_of_group(conn, queue.id, message.group_id)),
    ))
    bookkeeping.added(conn, queue.id)
    return SendResult(message_id, body_md5, attrs_md5, system_md5, sequence_number)


def _dump_attributes(attributes: dict[str, dict[str, Any]]) -> str | None:
    if not attributes:
        return None
    return json.dumps({
        name: ({"DataType": v["DataType"], "BinaryValue": base64.b64encode(v["BinaryValue"]).decode()}
               if v.get("BinaryValue") is not None else {"DataType": v["DataType"], "StringValue": v["StringValue"]})
        for name, v in attributes.items()
    })


def _load_attributes(text: str | None) -> dict[str, dict[str, Any]]:
    if not text:
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(text)
    for value in loaded.values():
        if "BinaryValue" in value:
            value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
    return loaded


# -- receipt handles -----------------------------------------------------------------------
def receipt_handle(queue_id: int, seq: int, token: str) -> str:
    raw = f"{queue_id}:{seq}:{token}".encode()
    return base64.urlsafe_b64encode(b"eventyard/" + raw).decode().rstrip("=")


def parse_receipt_handle(handle: str, queue: Queue) -> tuple[int, str]:
    try:
        padded = handle + "=" * (-len(handle) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, _, rest = raw.partition("/")
        queue_id, seq, token = rest.split(":")
        if prefix != "eventyard" or int(queue_id) != queue.id:
            raise ValueError(handle)
        return int(seq), token
    except (ValueError, UnicodeDecodeError):
        raise AwsError("ReceiptHandleIsInvalid",
                       f'The input receipt handle "{handle}" is not a valid receipt handle.') from None


# -- receiving -----------------------------------------------------------------------------
def receive(conn: Connection, queue: Queue, max_messages: int, visibility_timeout: int, now: float,
            attempt_id: str | None = None) -> list[ReceivedMessage]:
    if queue.fifo and attempt_id:
        repeated = _repeat_attempt(conn, queue, attempt_id, now)
        if repeated is not None:
            return repeated
    policy = queue.redrive_policy
    dead_letter = queue_store.find_by_arn(conn, policy["deadLetterTargetArn"]) if policy else None
    max_receives = int(policy["maxReceiveCount"]) if policy else 0
    rows = _fifo_candidates(conn, queue, max_messages, now) if queue.fifo else conn.execute(
        "SELECT * FROM sqs_messages WHERE queue_id = ? AND available_at <= ? AND expires_at > ?"
        f" ORDER BY available_at, seq LIMIT ?{skip_locked(conn)}",  # concurrent receivers pass each other
        # Spare candidates only stand in for messages moved to the dead-letter queue; each is locked.
        (queue.id, now, now, max_messages * 2 if dead_letter is not None else max_messages),
    ).fetchall()
    received: list[ReceivedMessage] = []
    claimed: list[int] = []
    # One fresh token for this receive's claims: each handle still names its own message (by seq), and
    # a later receive of any of them mints another token, which is what makes an old handle stale.
    token = new_token()
    for row in rows:
        if len(received) >= max_messages:
            break
        if dead_letter is not None and row["receive_count"] >= max_receives:
            move_message(conn, row, dead_letter, now, dead_letter_source=queue.arn)
            if queue.fifo:
                break  # the group's order now continues only after the moved message
            continue
        claimed.append(row["seq"])
        received.append(_received(queue, row, token, now))
    if claimed:
        conn.execute(
            "UPDATE sqs_messages SET available_at = ?, receive_count = receive_count + 1,"
            " first_received_at = COALESCE(first_received_at, ?), receipt_token = ?"
            f" WHERE seq IN ({','.join('?' * len(claimed))})",
            (now + visibility_timeout, now, token, *claimed),
        )
    if queue.fifo and attempt_id:
        conn.execute(
            "INSERT INTO sqs_receive_attempts (queue_id, attempt_id, handles, expires_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (queue_id, attempt_id) DO UPDATE SET handles = excluded.handles, expires_at = excluded.expires_at",
            (queue.id, attempt_id, json.dumps([[seq, token] for seq in claimed]), now + RECEIVE_ATTEMPT_WINDOW),
        )
    return received


def _received(queue: Queue, row: Row, token: str, now: float) -> ReceivedMessage:
    system = {
        "SenderId": row["sender_id"],
        "SentTimestamp": str(int(row["sent_at"] * 1000)),
        "ApproximateReceiveCount": str(row["receive_count"] + 1),
        "ApproximateFirstReceiveTimestamp": str(int((row["first_received_at"] or now) * 1000)),
    }
    if row["group_id"] is not None:
        system["MessageGroupId"] = row["group_id"]
    if queue.fifo:
        system["MessageDeduplicationId"] = row["dedup_id"]
        system["SequenceNumber"] = row["sequence_number"]
    if row["dead_letter_source_arn"]:
        system["DeadLetterQueueSourceArn"] = row["dead_letter_source_arn"]
    trace = _load_attributes(row["system_attributes"]).get("AWSTraceHeader")
    if trace:
        system["AWSTraceHeader"] = trace["StringValue"]
    return ReceivedMessage(
        message_id=row["message_id"],
        receipt_handle=receipt_handle(queue.id, row["seq"], token),
        body=row["body"],
        body_md5=row["body_md5"],
        attributes=_load_attributes(row["attributes"]),
        system=system,
    )


def _fifo_candidates(conn: Connection, queue: Queue, max_messages: int, now: float) -> list[Row]:
    """Messages a FIFO receive may return: from the groups whose head (oldest message) is visible, in
    the groups' turn order, each group's messages in order while they are visible.

    A group whose head is in flight is blocked, so its later messages wait (strict group order). Only
    heads are read to find the groups (bookkeeping.py), so the cost does not grow with the queue's
    depth. The queue's expired messages go first, so an expired head blocks nothing.
    """
    bookkeeping.delete_where(conn, "queue_id = ? AND expires_at <= ?", (queue.id, now))
    chosen: list[Row] = []
    for head in bookkeeping.visible_heads(conn, queue.id, max_messages, now, skip_locked(conn)):
        if len(chosen) >= max_messages:
            break
        group_rows = conn.execute(
            "SELECT * FROM sqs_messages WHERE queue_id = ? AND group_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
            (queue.id, head["group_id"], head["seq"], max_messages - len(chosen)),
        ).fetchall()
        for row in group_rows:
            if row["available_at"] > now:
                break
            chosen.append(row)
    return chosen


def _repeat_attempt(conn: Connection, queue: Queue, attempt_id: str, now: float) -> list[ReceivedMessage] | None:
    """A retried FIFO receive with the same ReceiveRequestAttemptId gets the same messages back."""
    row = conn.execute(
        "SELECT handles FROM sqs_receive_attempts WHERE queue_id = ? AND attempt_id = ? AND expires_at > ?",
        (queue.id, attempt_id, now),
    ).fetchone()
    if row is None:
        return None
    repeated = []
    for seq, token in json.loads(row[0]):
        message = conn.execute(
            "SELECT * FROM sqs_messages WHERE seq = ? AND receipt_token = ? AND available_at > ?", (seq, token, now)
        ).fetchone()
        if message is None:  # deleted or timed out since: the attempt can no longer be repeated
            return None
        repeated.append(_received(queue, message, token, now))
    return repeated


def next_visible_at(conn: Connection, queue: Queue, now: float) -> float | None:
    row = conn.execute(
        "SELECT MIN(available_at) FROM sqs_messages WHERE queue_id = ? AND available_at > ? AND expires_at > ?",
        (queue.id, now, now),
    ).fetchone()
    return row[0] if row else None


# -- deleting and visibility ---------------------------------------------------------------
def delete(conn: Connection, queue: Queue, handle: str, now: float) -> None:
    seq, token = parse_receipt_handle(handle, queue)
    if queue.fifo:
        # A FIFO handle stops working once its visibility timeout has ended (recorded: an error, not a no-op).
        deleted = bookkeeping.delete_where(conn, "seq = ? AND queue_id = ? AND receipt_token = ? AND available_at > ?",
                                           (seq, queue.id, token, now))
        if not deleted and conn.execute("SELECT 1 FROM sqs_messages WHERE seq = ? AND queue_id = ?",
                                        (seq, queue.id)).fetchone():
            raise AwsError("InvalidParameterValue", f"Value {handle} for parameter ReceiptHandle is invalid. "
                           "Reason: The receipt handle has expired.")
    else:
        bookkeeping.delete_where(conn, "seq = ? AND queue_id = ?", (seq, queue.id))


def delete_standard(conn: Connection, queue: Queue, handles: list[str]) -> list[AwsError | None]:
    """DeleteMessageBatch on a standard queue: every well-formed handle's message deleted by one statement
    (a message deleted already is no error there, as on AWS); each malformed handle answers its error."""
    outcomes: list[AwsError | None] = []
    seqs: list[int] = []
    for handle in handles:
        try:
            seqs.append(parse_receipt_handle(handle, queue)[0])
            outcomes.append(None)
        except AwsError as error:
            outcomes.append(error)
    if seqs:  # by primary key: `+queue_id` keeps SQLite from walking the queue's index instead
        bookkeeping.delete_where(conn, f"seq IN ({','.join('?' * len(seqs))}) AND +queue_id = ?", (*seqs, queue.id))
    return outcomes


def change_visibility(conn: Connection, queue: Queue, handle: str, timeout: int, now: float) -> None:
    seq, token = parse_receipt_handle(handle, queue)
    if not 0 <= timeout <= 43_200:
        raise AwsError("InvalidParameterValue",
                       f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 "
                       "and 43200, if provided.")
    row = conn.execute("SELECT available_at, receive_count, receipt_token FROM sqs_messages"
                       " WHERE seq = ? AND queue_id = ?", (seq, queue.id)).fetchone()
    if row is None:
        raise AwsError("InvalidParameterValue",
                       f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist "
                       "or is not available for visibility timeout change.")
    # A standard queue's message takes a new timeout from any of its receipt handles even after its
    # visibility ended (recorded); a FIFO message only from its current one, while in flight.
    in_flight = row["available_at"] > now and row["receipt_token"] == token
    if row["receive_count"] == 0 or (queue.fifo and not in_flight):
        raise AwsError("MessageNotInflight", "Message is not in flight.")
    conn.execute("UPDATE sqs_messages SET available_at = ? WHERE seq = ?", (now + timeout, seq))


# -- dead letters, moves, retention --------------------------------------------------------
def move_message(conn: Connection, row: Row, target: Queue, now: float,
                 dead_letter_source: str | None = None) -> None:
    """Move a message to another queue, keeping its id, body, attributes and original send time."""
    retention = target.int_attr("MessageRetentionPeriod")
    # Standard queues keep a message's original enqueue time for retention; FIFO queues reset it.
    expires_at = now + retention if target.fifo else row["sent_at"] + retention
    sequence_number = row["sequence_number"]
    if target.fifo:
        sequence = conn.execute(
            "UPDATE sqs_queues SET next_sequence = next_sequence + 1 WHERE id = ? RETURNING next_sequence - 1",
            (target.id,),
        ).fetchone()[0]
        sequence_number = f"{sequence:020d}"
    # A dead-lettered message keeps its receive count and first receive time (recorded: the DLQ's first
    # receive shows ApproximateReceiveCount 2 after one receive in the source).
    dead_lettered = dead_letter_source is not None
    conn.execute(
        "INSERT INTO sqs_messages (queue_id, message_id, body, body_md5, attributes, system_attributes, sent_at,"
        " available_at, expires_at, group_id, dedup_id, sequence_number, sender_id, dead_letter_source_arn,"
        " receive_count, first_received_at, is_head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            target.id, row["message_id"], row["body"], row["body_md5"], row["attributes"], row["system_attributes"],
            row["sent_at"], now, max(expires_at, now + 60), row["group_id"], row["dedup_id"], sequence_number,
            row["sender_id"], dead_letter_source, row["receive_count"] if dead_lettered else 0,
            row["first_received_at"] if dead_lettered else None,
            int(target.fifo and bookkeeping.is_first_of_group(conn, target.id, row["group_id"])),
        ),
    )
    bookkeeping.added(conn, target.id)
    bookkeeping.delete_where(conn, "seq = ?", (row["seq"],))


def sweep_expired(conn: Connection, now: float) -> int:
    """Drop messages past their retention period and expired dedup and receive-attempt records."""
    removed = bookkeeping.delete_where(conn, "expires_at <= ?", (now,))
    conn.execute("DELETE FROM sqs_dedup WHERE expires_at <= ?", (now,))
    conn.execute("DELETE FROM sqs_receive_attempts WHERE expires_at <= ?", (now,))
    return removed

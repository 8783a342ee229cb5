"""Queues: create, find, configure, tag, permission, purge and delete. Functions of a connection."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.partitions import root_principal
from eventyard.services.sqs import attributes as attrs
from eventyard.services.sqs import bookkeeping
from eventyard.services.sqs.names import QueueKey, key_from_arn, queue_does_not_exist, validate_queue_name
from eventyard.storage import Connection, Row

RECREATE_DELAY = 60.0  # seconds AWS makes you wait to reuse a deleted queue's name
PURGE_INTERVAL = 60.0


@dataclass
class Queue:
    id: int
    key: QueueKey
    fifo: bool
    attributes: dict[str, str]
    tags: dict[str, str]
    created_at: float
    modified_at: float
    last_purge_at: float | None

    @property
    def arn(self) -> str:
        return self.key.arn

    def int_attr(self, name: str) -> int:
        return int(self.attributes[name])

    @property
    def redrive_policy(self) -> dict[str, Any] | None:
        text = self.attributes.get("RedrivePolicy")
        return json.loads(text) if text else None

    @property
    def content_based_dedup(self) -> bool:
        return self.attributes.get("ContentBasedDeduplication") == "true"

    @property
    def dedup_per_group(self) -> bool:
        return self.attributes.get("DeduplicationScope") == "messageGroup"


_PARSED: dict[str, dict[str, str]] = {}  # a row's attributes or tags text -> parsed (bounded below)


def _text_map(text: str) -> dict[str, str]:
    """Every operation reads its queue's row: its attributes and tags are parsed once per distinct text,
    and each caller gets its own copy (some change theirs)."""
    parsed = _PARSED.get(text)
    if parsed is None:
        if len(_PARSED) >= 4096:
            _PARSED.clear()
        parsed = _PARSED[text] = json.loads(text)
    return dict(parsed)


def _from_row(row: Row) -> Queue:
    return Queue(
        id=row["id"],
        key=QueueKey(row["account_id"], row["region"], row["name"]),
        fifo=bool(row["fifo"]),
        attributes=_text_map(row["attributes"]),
        tags=_text_map(row["tags"]),
        created_at=row["created_at"],
        modified_at=row["modified_at"],
        last_purge_at=row["last_purge_at"],
    )


def find(conn: Connection, key: QueueKey) -> Queue | None:
    row = conn.execute(
        "SELECT * FROM sqs_queues WHERE account_id = ? AND region = ? AND name = ?",
        (key.account_id, key.region, key.name),
    ).fetchone()
    return _from_row(row) if row else None


def get(conn: Connection, key: QueueKey) -> Queue:
    queue = find(conn, key)
    if queue is None:
        raise queue_does_not_exist()
    return queue


def find_by_arn(conn: Connection, arn: str) -> Queue | None:
    key = key_from_arn(arn)
    return find(conn, key) if key else None


def _attribute_checks(conn: Connection, source_arn: str) -> tuple[Any, Any]:
    def exists(arn: str) -> bool:
        return find_by_arn(conn, arn) is not None

    def allows(arn: str) -> str | None:
        target = find_by_arn(conn, arn)
        return attrs.redrive_refusal(target.attributes.get("RedriveAllowPolicy"), source_arn) if target else None

    return exists, allows


def create(conn: Connection, key: QueueKey, given: dict[str, str], tags: dict[str, str],
           now: float) -> Queue:
    # A queue is FIFO only with FifoQueue=true (and a .fifo name); a standard queue takes no FifoQueue
    # attribute at all, not even "false", and no .fifo name (both recorded against AWS).
    fifo = given.get("FifoQueue", "").lower() == "true"
    validate_queue_name(key.name, fifo)
    if not fifo and "FifoQueue" in given:
        raise AwsError("InvalidAttributeName", "Unknown Attribute FifoQueue.")
    exists, allows = _attribute_checks(conn, key.arn)
    normalized = attrs.normalize(given, fifo, exists, allows)
    existing = find(conn, key)
    if existing is not None:
        for name, value in normalized.items():
            if existing.attributes.get(name, "") != value and not (name == "FifoQueue" and fifo):
                raise AwsError(
                    "QueueNameExists",
                    f"A queue already exists with the same name and a different value for attribute {name}",
                )
        return existing
    deleted = conn.execute(
        "SELECT deleted_at FROM sqs_deleted_queues WHERE account_id = ? AND region = ? AND name = ?",
        (key.account_id, key.region, key.name),
    ).fetchone()
    if deleted and now - deleted[0] < RECREATE_DELAY:
        raise AwsError("QueueDeletedRecently",
                       "You must wait 60 seconds after deleting a queue before you can create another "
                       "with the same name.")
    stored = dict(attrs.FIFO_DEFAULTS if fifo else attrs.STANDARD_DEFAULTS)
    stored.update({k: v for k, v in normalized.items() if v != "" or k == "Policy"})
    if "KmsMasterKeyId" in stored:
        stored.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        stored["SqsManagedSseEnabled"] = "false"
    _check_tags(tags)
    queue_id = conn.execute(
        "INSERT INTO sqs_queues (account_id, region, name, fifo, attributes, tags, created_at, modified_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (key.account_id, key.region, key.name, int(fifo), json.dumps(stored), json.dumps(tags), now, now),
    ).fetchone()[0]
    return Queue(int(queue_id), key, fifo, stored, dict(tags), now, now, None)


def set_attributes(conn: Connection, queue: Queue, given: dict[str, str], now: float) -> None:
    if "FifoQueue" in given:
        # A standard queue has no FifoQueue attribute; a FIFO queue cannot be made standard (recorded).
        if not queue.fifo:
            raise AwsError("InvalidAttributeName", "Unknown Attribute FifoQueue.")
        if given["FifoQueue"].lower() != "true":
            raise AwsError("InvalidAttributeValue", "Invalid value for the parameter FifoQueue. Reason: Modifying "
                           "queue type is not supported.")
    exists, allows = _attribute_checks(conn, queue.arn)
    normalized = attrs.normalize(given, queue.fifo, exists, allows)
    for name, value in normalized.items():
        if value == "" and name in {"RedrivePolicy", "RedriveAllowPolicy", "Policy", "KmsMasterKeyId"}:
            queue.attributes.pop(name, None)
        else:
            queue.attributes[name] = value
    # SSE-KMS replaces SSE-SQS, and its data key period goes with the key (recorded against AWS).
    if normalized.get("KmsMasterKeyId"):
        queue.attributes.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        if "SqsManagedSseEnabled" not in normalized:
            queue.attributes["SqsManagedSseEnabled"] = "false"
    elif normalized.get("KmsMasterKeyId") == "":
        queue.attributes.pop("KmsDataKeyReusePeriodSeconds", None)
    conn.execute(
        "UPDATE sqs_queues SET attributes = ?, modified_at = ? WHERE id = ?",
        (json.dumps(queue.attributes), now, queue.id),
    )


def delete(conn: Connection, queue: Queue, now: float) -> None:
    conn.execute("DELETE FROM sqs_messages WHERE queue_id = ?", (queue.id,))
    conn.execute("DELETE FROM sqs_queues WHERE id = ?", (queue.id,))
    conn.execute(
        "INSERT INTO sqs_deleted_queues (account_id, region, name, deleted_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (account_id, region, name) DO UPDATE SET deleted_at = excluded.deleted_at",
        (queue.key.account_id, queue.key.region, queue.key.name, now),
    )


def purge(conn: Connection, queue: Queue, now: float) -> None:
    if queue.last_purge_at is not None and now - queue.last_purge_at < PURGE_INTERVAL:
        raise AwsError(
            "PurgeQueueInProgress",
            f"Only one PurgeQueue operation on {queue.key.name} is allowed every 60 seconds.",
        )
    bookkeeping.delete_where(conn, "queue_id = ? AND sent_at <= ?", (queue.id, now))
    # A purge also forgets a FIFO queue's deduplication ids (recorded: a purged message can be sent again).
    conn.execute("DELETE FROM sqs_dedup WHERE queue_id = ?", (queue.id,))
    conn.execute("UPDATE sqs_queues SET last_purge_at = ? WHERE id = ?", (now, queue.id))


def dead_letter_sources(conn: Connection, queue: Queue) -> list[Queue]:
    rows = conn.execute(
        "SELECT * FROM sqs_queues WHERE region = ? ORDER BY name", (queue.key.region,)
    ).fetchall()
    sources = []
    for row in rows:
        candidate = _from_row(row)
        policy = candidate.redrive_policy
        if policy and policy.get("deadLetterTargetArn") == queue.arn:
            sources.append(candidate)
    return sources


def attributes_view(conn: Connection, queue: Queue, names: list[str], now: float) -> dict[str, str]:
    """GetQueueAttributes: the requested stored and computed attributes, as strings."""
    for name in names:
        if name != "All" and name not in attrs.ALL_NAMES:
            raise AwsError("InvalidAttributeName", f"Unknown Attribute {name}.")
    wanted = set(attrs.ALL_NAMES) if "All" in names else set(names)
    view: dict[str, str] = {k: v for k, v in queue.attributes.items() if k in wanted}
    if wanted & {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"}:
        view.update({k: str(v) for k, v in bookkeeping.counts(conn, queue.id, now).items() if k in wanted})
    if "CreatedTimestamp" in wanted:
        view["CreatedTimestamp"] = str(int(queue.created_at))
    if "LastModifiedTimestamp" in wanted:
        view["LastModifiedTimestamp"] = str(int(queue.modified_at))
    if "QueueArn" in wanted:
        view["QueueArn"] = queue.arn
    return view


# -- tags ----------------------------------------------------------------------------------
MAX_TAGS = 50


def _check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise AwsError("InvalidParameterValue", f"Too many tags added for queue. Maximum is {MAX_TAGS}.")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise AwsError("InvalidParameterValue", "Tag keys must be 1 to 128 characters and values at most 256.")


def tag(conn: Connection, queue: Queue, tags: dict[str, str]) -> None:
    if not tags:  # an empty Tags map is no tag at all: AWS asks for the parameter
        raise AwsError("MissingParameter", "The request must contain the parameter Tags.")
    merged = {**queue.tags, **tags}
    _check_tags(merged)
    conn.execute("UPDATE sqs_queues SET tags = ? WHERE id = ?", (json.dumps(merged), queue.id))


def untag(conn: Connection, queue: Queue, keys: list[str]) -> None:
    remaining = {k: v for k, v in queue.tags.items() if k not in set(keys)}
    conn.execute("UPDATE sqs_queues SET tags = ? WHERE id = ?", (json.dumps(remaining), queue.id))


# -- permissions (kept as the queue's Policy document, as AWS does) ------------------------
def add_permission(conn: Connection, queue: Queue, label: str, accounts: list[str], actions: list[str],
                   now: float) -> None:
    policy = json.loads(queue.attributes.get("Policy") or "null") or {
        "Version": "2008-10-17",  # AddPermission writes the old policy language version (recorded)
        "Id": f"{queue.arn}/SQSDefaultPolicy",
        "Statement": [],
    }
    for name, given in (("AWSAccountIds", accounts), ("Actions", actions)):
        if not given:  # an empty list: nothing to grant, as AWS says of a missing one
            raise AwsError("MissingParameter", f"The request must contain the parameter {name}.")
    if any(s.get("Sid") == label for s in policy["Statement"]):
        raise AwsError("InvalidParameterValue",
                       f"Value {label} for parameter Label is invalid. Reason: Already exists.")
    principals = [root_principal(queue.key.region, account) for account in accounts]
    policy["Statement"].append({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": [f"SQS:{a}" for a in actions] if len(actions) > 1 else f"SQS:{actions[0]}",
        "Resource": queue.arn,
    })
    set_policy(conn, queue, policy, now)


def remove_permission(conn: Connection, queue: Queue, label: str, now: float) -> None:
    policy = json.loads(queue.attributes.get("Policy") or "null")
    statements = policy.get("Statement", []) if policy else []
    if not any(s.get("Sid") == label for s in statements):
        raise AwsError("InvalidParameterValue",
                       f"Value {label} for parameter Label is invalid. Reason: can't find label.")
    policy["Statement"] = [s for s in statements if s.get("Sid") != label]
    set_policy(conn, queue, policy if policy["Statement"] else None, now)


def set_policy(conn: Connection, queue: Queue, policy: dict[str, Any] | None, now: float) -> None:
    if policy is None:
        queue.attributes.pop("Policy", None)
    else:
        queue.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
    conn.execute("UPDATE sqs_queues SET attributes = ?, modified_at = ? WHERE id = ?",
                 (json.dumps(queue.attributes), now, queue.id))

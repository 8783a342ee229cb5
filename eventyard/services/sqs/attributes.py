"""Queue attributes: which exist, their defaults and limits, and how SQS validates new values."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.sqs.names import key_from_arn

MAX_MESSAGE_SIZE = 1_048_576  # SQS raised the default and the limit to 1 MiB in 2025


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int


# settable attribute -> default (as AWS returns it: always a string)
STANDARD_DEFAULTS: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": str(MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    **STANDARD_DEFAULTS,
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
RANGES: dict[str, IntRange] = {
    "DelaySeconds": IntRange(0, 900),
    "MaximumMessageSize": IntRange(1024, MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": IntRange(60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": IntRange(0, 20),
    "VisibilityTimeout": IntRange(0, 43_200),
    "KmsDataKeyReusePeriodSeconds": IntRange(60, 86_400),
}
BOOLEANS = {"SqsManagedSseEnabled", "ContentBasedDeduplication", "FifoQueue"}
FIFO_ONLY = {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
CHOICES: dict[str, set[str]] = {
    "DeduplicationScope": {"messageGroup", "queue"},
    "FifoThroughputLimit": {"perQueue", "perMessageGroupId"},
}
FREE_TEXT = {"Policy", "KmsMasterKeyId", "RedrivePolicy", "RedriveAllowPolicy"}
SETTABLE = set(RANGES) | BOOLEANS | set(CHOICES) | FREE_TEXT
COMPUTED = {
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
}
ALL_NAMES = SETTABLE | COMPUTED


def invalid_value(name: str, reason: str | None = None) -> AwsError:
    if reason:
        return AwsError("InvalidAttributeValue", f"Value for parameter {name} is invalid. Reason: {reason}")
    return AwsError("InvalidAttributeValue", f"Invalid value for the parameter {name}.")


def normalize(attributes: dict[str, str], fifo: bool, queue_exists: Callable[[str], bool],
              allows_source: Callable[[str], str | None]) -> dict[str, str]:
    """Validate attributes being set on a queue and return them in their stored spelling."""
    out: dict[str, str] = {}
    for name, raw in attributes.items():
        if name in {"DeduplicationScope", "FifoThroughputLimit"} and not fifo:
            raise AwsError("InvalidAttributeName", f"You can specify the {name} only when FifoQueue is set to true.")
        if name not in SETTABLE or (name in FIFO_ONLY and not fifo and name != "FifoQueue"):
            raise AwsError("InvalidAttributeName", f"Unknown Attribute {name}.")
        value = str(raw)
        if name in RANGES:
            limits = RANGES[name]
            try:
                number = int(value)
            except ValueError:
                raise invalid_value(name) from None
            if not limits.low <= number <= limits.high:
                raise invalid_value(name)
            value = str(number)
        elif name in BOOLEANS:
            if value.lower() not in {"true", "false"}:
                raise invalid_value(name)
            value = value.lower()
        elif name in CHOICES and value not in CHOICES[name]:
            raise invalid_value(name)
        elif name == "RedrivePolicy":
            value = _normalize_redrive_policy(value, fifo, queue_exists, allows_source)
        elif name == "RedriveAllowPolicy":
            value = _normalize_redrive_allow_policy(value)
        elif name == "Policy" and value:
            try:
                json.loads(value)
            except ValueError:
                raise invalid_value(name, "Policy is not valid JSON.") from None
        out[name] = value
    return out


def _normalize_redrive_policy(value: str, fifo: bool, queue_exists: Callable[[str], bool],
                              allows_source: Callable[[str], str | None]) -> str:
    if value == "":
        return ""
    try:
        policy = json.loads(value)
    except ValueError:
        raise invalid_value("RedrivePolicy", "Redrive policy is not a valid JSON map.") from None
    if not isinstance(policy, dict):
        raise invalid_value("RedrivePolicy", "Redrive policy is not a valid JSON map.")
    target = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    if target is None or count is None:
        raise invalid_value(
            "RedrivePolicy",
            "Redrive policy does not contain mandatory attribute: "
            + ("deadLetterTargetArn" if target is None else "maxReceiveCount") + ".",
        )
    try:
        count = int(count)
    except (TypeError, ValueError):
        raise invalid_value("RedrivePolicy", "Invalid value for maxReceiveCount: "
                            f"{count}, valid values are from 1 to 1000 both inclusive.") from None
    if not 1 <= count <= 1000:
        raise invalid_value("RedrivePolicy", "Invalid value for maxReceiveCount: "
                            f"{count}, valid values are from 1 to 1000 both inclusive.")
    key = key_from_arn(str(target))
    if key is None or not queue_exists(str(target)):
        raise invalid_value("RedrivePolicy", "Dead-letter target does not exist.")
    if key.name.endswith(".fifo") != fifo:
        raise invalid_value("RedrivePolicy", "Dead-letter queue must be same type of queue as the source.")
    refusal = allows_source(str(target))
    if refusal:
        raise invalid_value("RedrivePolicy", refusal)
    return json.dumps({"deadLetterTargetArn": str(target), "maxReceiveCount": count}, separators=(",", ":"))


def _normalize_redrive_allow_policy(value: str) -> str:
    if value == "":
        return ""
    try:
        policy = json.loads(value)
    except ValueError:
        raise invalid_value("RedriveAllowPolicy", "Invalid JSON.") from None
    permission = policy.get("redrivePermission") if isinstance(policy, dict) else None
    if permission not in {"allowAll", "denyAll", "byQueue"}:
        raise invalid_value("RedriveAllowPolicy", "Invalid value for redrivePermission.")
    sources = policy.get("sourceQueueArns")
    if permission == "byQueue":
        if not isinstance(sources, list) or not 1 <= len(sources) <= 10:
            raise invalid_value(
                "RedriveAllowPolicy",
                "Please specify between 1 and 10 source queue ARNs when redrivePermission is byQueue.",
            )
    elif sources:
        raise invalid_value("RedriveAllowPolicy",
                            "Only specify source queue ARNs when redrivePermission is byQueue.")
    return json.dumps(policy, separators=(",", ":"))


def redrive_refusal(allow_policy: str | None, source_arn: str) -> str | None:
    """Why a DLQ's RedriveAllowPolicy refuses a source queue, or None when it allows it."""
    if not allow_policy:
        return None
    policy: dict[str, Any] = json.loads(allow_policy)
    permission = policy.get("redrivePermission")
    if permission == "denyAll" or (permission == "byQueue" and source_arn not in policy.get("sourceQueueArns", [])):
        return "Dead-letter target owner does not allow this source queue."
    return None

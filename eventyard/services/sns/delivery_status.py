"""SNS delivery status logging: a topic with `<Protocol>SuccessFeedbackRoleArn` (and a
`<Protocol>SuccessFeedbackSampleRate`) gets a CloudWatch Logs record of each successful delivery to
its Lambda and SQS subscriptions, in the log group AWS writes (`sns/<region>/<account>/<topic>`),
one stream per record; the record's shape is the one recorded against AWS."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from eventyard.runtime.ids import new_uuid

PREFIXES = {"lambda": "Lambda", "sqs": "SQS"}


@dataclass(frozen=True)
class Outcome:
    status_code: int
    provider_response: dict[str, Any]


def wanted(attributes: dict[str, str], protocol: str) -> bool:
    """Whether this successful delivery is logged: a success role is set and the sample rate picks it."""
    prefix = PREFIXES.get(protocol)
    if prefix is None or not attributes.get(f"{prefix}SuccessFeedbackRoleArn"):
        return False
    try:
        rate = float(attributes.get(f"{prefix}SuccessFeedbackSampleRate") or 0)
    except ValueError:
        return False
    return rate >= 100 or random.uniform(0, 100) < rate


def log_group(topic_arn: str) -> str:
    _, _, _, region, account, name = topic_arn.split(":", 5)
    return f"sns/{region}/{account}/{name}"


def record(document: dict[str, Any], destination: str, outcome: Outcome, now: float) -> str:
    """The log message for one successful delivery."""
    message = document.get("Message", "")
    published_at = dt.datetime.strptime(document["Timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=dt.UTC).timestamp()
    return json.dumps({
        "notification": {
            "messageMD5Sum": hashlib.md5(message.encode()).hexdigest(), "messageId": document["MessageId"],
            # As AWS's records print it: "2016-03-23 17:43:53.836" (no T, no zone).
            "topicArn": document["TopicArn"],
            "timestamp": dt.datetime.fromtimestamp(published_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]},
        "delivery": {
            "deliveryId": new_uuid(), "destination": destination,
            "providerResponse": json.dumps(outcome.provider_response),
            "dwellTimeMs": max(0, int((now - published_at) * 1000)), "statusCode": outcome.status_code},
        "status": "SUCCESS",
    })

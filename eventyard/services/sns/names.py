"""Topic and subscription ARNs in AWS's exact shapes, and the topic-name rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from eventyard.runtime.ids import new_uuid
from eventyard.runtime.partitions import arn
from eventyard.services.sns.errors import invalid_parameter

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$")
_SUBSCRIPTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256}):([0-9a-f-]{36})$"
)


@dataclass(frozen=True)
class TopicKey:
    account_id: str
    region: str
    name: str

    @property
    def arn(self) -> str:
        return arn("sns", self.region, self.account_id, self.name)

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


def validate_topic_name(name: str, fifo: bool) -> None:
    # AWS words every naming mistake alike, FIFO ones included (recorded).
    if not (_FIFO_TOPIC_NAME if fifo else _TOPIC_NAME).match(name):
        raise invalid_parameter("Topic Name")


def too_few_elements(arn: str, parameter: str) -> None:
    """AWS first checks an ARN's shape: "<Parameter> Reason: An ARN must have at least 6 elements, not N"."""
    count = len(arn.split(":"))
    if count < 6:
        raise invalid_parameter(parameter, f"An ARN must have at least 6 elements, not {count}")


def parse_topic_arn(arn: str, parameter: str = "TopicArn") -> TopicKey:
    match = _TOPIC_ARN.match(arn)
    if match is None:
        too_few_elements(arn, parameter)
        raise invalid_parameter(parameter)
    return TopicKey(match.group(2), match.group(1), match.group(3))


def parse_subscription_arn(arn: str) -> TopicKey:
    """The topic of a subscription ARN; a malformed ARN is AWS's InvalidParameter."""
    match = _SUBSCRIPTION_ARN.match(arn)
    if match is None:
        too_few_elements(arn, "SubscriptionArn")
        # Six elements but no subscription id after the topic name (recorded).
        raise invalid_parameter("SubscriptionId" if len(arn.split(":")) == 6 else "SubscriptionArn")
    return TopicKey(match.group(2), match.group(1), match.group(3))


def new_subscription_arn(topic_arn: str) -> str:
    return f"{topic_arn}:{new_uuid()}"


def sqs_queue_parts(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of an SQS queue ARN, or None."""
    match = re.match(r"^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})$", arn)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def lambda_function_parts(arn: str) -> tuple[str, str] | None:
    """(region, account) of a Lambda function ARN (optionally qualified), or None."""
    match = re.match(r"^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:[A-Za-z0-9_-]+(:[\w$-]+)?$", arn)
    return (match.group(1), match.group(2)) if match else None

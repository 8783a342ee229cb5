"""JSON policies SNS keeps as attributes: access policy, delivery (retry) policy, redrive policy.

Delivery retries follow AWS's phases ("Amazon SNS message delivery retries"): immediate retries,
pre-backoff retries at the minimum delay, backoff retries growing from the minimum to the maximum
delay, then post-backoff retries at the maximum delay.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from eventyard.patterns import syntax_error
from eventyard.protocol.models import service_model
from eventyard.services.sns.errors import InvalidAttribute, invalid_parameter

# AWS's default HTTP/S policy: three retries, 20 seconds apart.
DEFAULT_HTTP_RETRY = {
    "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear",
}
BACKOFF_FUNCTIONS = {"linear", "arithmetic", "geometric", "exponential"}
MAX_TOTAL_RETRY_SECONDS = 3600  # AWS's hard limit for an HTTP/S policy


@dataclass(frozen=True)
class RetrySchedule:
    """How often and how far apart a failed delivery is retried."""

    num_retries: int
    no_delay: int
    min_delay_retries: int
    max_delay_retries: int
    min_delay: float
    max_delay: float
    backoff: str = "linear"

    def delay(self, retry: int) -> float | None:
        """Seconds before retry number `retry` (1-based), or None when the policy is exhausted."""
        if retry > self.num_retries:
            return None
        if retry <= self.no_delay:
            return 0.0
        retry -= self.no_delay
        if retry <= self.min_delay_retries:
            return self.min_delay
        retry -= self.min_delay_retries
        backoff_count = self.num_retries - self.no_delay - self.min_delay_retries - self.max_delay_retries
        if retry <= backoff_count:
            fraction = retry / backoff_count
            span = self.max_delay - self.min_delay
            if self.backoff == "exponential":
                grow = (math.exp(fraction * 3) - 1) / (math.exp(3) - 1)
            elif self.backoff == "geometric":
                grow = fraction ** 2
            elif self.backoff == "arithmetic":
                grow = fraction * (fraction + 1) / 2 / 1.0
            else:
                grow = fraction
            return self.min_delay + span * min(1.0, grow)
        return self.max_delay


# SQS and Lambda ("AWS managed endpoints"): 3 immediate, 2 at 1 s, 10 backing off 1-20 s,
# 100,000 at 20 s: 100,015 attempts over 23 days.
MANAGED_SCHEDULE = RetrySchedule(100_014, 3, 2, 100_000, 1.0, 20.0, "exponential")
# Email/SMS/mobile endpoints are captured locally, so they never fail; no schedule is needed.


def _schedule(policy: dict[str, Any]) -> RetrySchedule:
    merged = {**DEFAULT_HTTP_RETRY, **policy}
    return RetrySchedule(int(merged["numRetries"]), int(merged["numNoDelayRetries"]),
                         int(merged["numMinDelayRetries"]), int(merged["numMaxDelayRetries"]),
                         float(merged["minDelayTarget"]), float(merged["maxDelayTarget"]),
                         str(merged["backoffFunction"]))


def _load(text: str, name: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid_parameter(name, "failed to parse JSON") from None
    if not isinstance(document, dict):
        raise invalid_parameter(name)
    return document


def validate_retry_policy(policy: Any, name: str) -> None:
    if not isinstance(policy, dict):
        raise invalid_parameter(name)
    for field, value in policy.items():
        if field == "backoffFunction":
            if value not in BACKOFF_FUNCTIONS:
                raise invalid_parameter(name, f"backoffFunction must be one of {sorted(BACKOFF_FUNCTIONS)}")
        elif field in DEFAULT_HTTP_RETRY:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise invalid_parameter(name, f"{field} must be a non-negative integer")
        else:
            raise invalid_parameter(name, f"Unknown field {field}")
    schedule = _schedule(policy)
    if schedule.num_retries > 100:
        raise invalid_parameter(name, "numRetries must be at most 100")
    if schedule.min_delay < 1 or schedule.max_delay > MAX_TOTAL_RETRY_SECONDS or schedule.min_delay > schedule.max_delay:
        raise invalid_parameter(name, "minDelayTarget must be between 1 and maxDelayTarget")
    if schedule.no_delay + schedule.min_delay_retries + schedule.max_delay_retries > schedule.num_retries:
        raise invalid_parameter(name, "numRetries must be at least the sum of the phase retries")
    total = sum(schedule.delay(i) or 0.0 for i in range(1, schedule.num_retries + 1))
    if total > MAX_TOTAL_RETRY_SECONDS:
        raise invalid_parameter(name, "The total policy retry time cannot be greater than 3600 seconds")


def validate_topic_delivery_policy(text: str) -> None:
    document = _load(text, "DeliveryPolicy")
    http = document.get("http")
    if http is not None:
        if not isinstance(http, dict):
            raise invalid_parameter("DeliveryPolicy")
        if "defaultHealthyRetryPolicy" in http:
            validate_retry_policy(http["defaultHealthyRetryPolicy"], "DeliveryPolicy")


def validate_subscription_delivery_policy(text: str) -> None:
    document = _load(text, "DeliveryPolicy")
    if "healthyRetryPolicy" in document:
        validate_retry_policy(document["healthyRetryPolicy"], "DeliveryPolicy")


def effective_topic_delivery_policy(text: str | None) -> str:
    http: dict[str, Any] = {"defaultHealthyRetryPolicy": dict(DEFAULT_HTTP_RETRY),
                            "disableSubscriptionOverrides": False,
                            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}
    if text:
        given = json.loads(text).get("http", {})
        for key, value in given.items():
            if key == "defaultHealthyRetryPolicy":
                http[key] = {**DEFAULT_HTTP_RETRY, **value}
            else:
                http[key] = value
    return json.dumps({"http": http}, separators=(",", ":"))


def effective_subscription_delivery_policy(topic_policy: str | None, subscription_policy: str | None) -> dict[str, Any]:
    topic_http = json.loads(effective_topic_delivery_policy(topic_policy))["http"]
    retry = dict(topic_http["defaultHealthyRetryPolicy"])
    request = dict(topic_http.get("defaultRequestPolicy", {}))
    throttle = topic_http.get("defaultThrottlePolicy")
    if subscription_policy and not topic_http.get("disableSubscriptionOverrides"):
        own = json.loads(subscription_policy)
        retry.update(own.get("healthyRetryPolicy") or {})
        request.update(own.get("requestPolicy") or {})
        throttle = own.get("throttlePolicy", throttle)
    effective: dict[str, Any] = {"healthyRetryPolicy": retry, "sicklyRetryPolicy": None,
                                 "throttlePolicy": throttle, "requestPolicy": request, "guaranteed": False}
    return effective


def http_schedule(effective: dict[str, Any]) -> RetrySchedule:
    return _schedule(effective["healthyRetryPolicy"])


def validate_redrive_policy(text: str) -> str | None:
    """The DLQ ARN of a RedrivePolicy (`{"deadLetterTargetArn": ...}`); empty text removes it."""
    if not text:
        return None
    problem = syntax_error(text)
    if problem is not None:
        raise InvalidAttribute("RedrivePolicy", f"failed to parse JSON. {problem}")
    document = json.loads(text)
    target = document.get("deadLetterTargetArn") if isinstance(document, dict) else None
    if not isinstance(target, str) or not re.match(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$", target):
        raise InvalidAttribute("RedrivePolicy", "deadLetterTargetArn is an invalid arn")
    return target


# -- access policy ---------------------------------------------------------------------------
_DEFAULT_ACTIONS = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                    "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish"]


# AddPermission grants SNS actions only: the names of SNS's API operations.
_SNS_ACTIONS = frozenset(service_model("sns").operation_names)


def default_topic_policy(topic_arn: str, account_id: str) -> str:
    return json.dumps({
        "Version": "2008-10-17", "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": _DEFAULT_ACTIONS, "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account_id}},
        }],
    }, separators=(",", ":"))


def add_statement(policy: str, topic_arn: str, label: str, accounts: list[str], actions: list[str]) -> str:
    document = json.loads(policy)
    statements = document.setdefault("Statement", [])
    if any(s.get("Sid") == label for s in statements):
        raise invalid_parameter("Statement already exists")
    if any(action not in _SNS_ACTIONS for action in actions):
        raise invalid_parameter("Policy statement action out of service scope!")
    principals = [f"arn:{topic_arn.split(':')[1]}:iam::{a}:root" for a in accounts]  # the topic's partition
    statements.append({
        "Sid": label, "Effect": "Allow",
        "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": [f"SNS:{a}" for a in actions] if len(actions) > 1 else f"SNS:{actions[0]}",
        "Resource": topic_arn,
    })
    return json.dumps(document, separators=(",", ":"))


def remove_statement(policy: str, label: str) -> str:
    document = json.loads(policy)
    document["Statement"] = [s for s in document.get("Statement", []) if s.get("Sid") != label]
    return json.dumps(document, separators=(",", ":"))

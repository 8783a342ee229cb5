"""Subscriptions: subscribe (with AWS's confirmation rules), confirm, unsubscribe, attributes, lists."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from eventyard.patterns import InvalidPattern, compile_filter_policy
from eventyard.protocol.errors import AwsError
from eventyard.runtime.partitions import root_principal
from eventyard.services import paging
from eventyard.services.sns import policies
from eventyard.services.sns.errors import InvalidAttribute, invalid_parameter, subscription_not_found
from eventyard.services.sns.names import (
    lambda_function_parts,
    new_subscription_arn,
    parse_subscription_arn,
    sqs_queue_parts,
)
from eventyard.services.sns.topics import Topic, token_error
from eventyard.storage import Connection, Row

PROTOCOLS = {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}
# Protocols AWS confirms only after the endpoint's owner follows the SubscribeURL.
NEEDS_CONFIRMATION = {"http", "https", "email", "email-json"}
RAW_CAPABLE = {"http", "https", "sqs", "firehose"}
SETTABLE = {"DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
            "SubscriptionRoleArn", "ReplayPolicy"}
ATTRIBUTE_DEFAULTS = {"RawMessageDelivery": "false", "FilterPolicyScope": "MessageAttributes"}
PAGE_SIZE = 100
TOKEN_LIFETIME = 3 * 24 * 3600.0  # a confirmation link is valid for three days
PENDING = "pending confirmation"


@dataclass
class Subscription:
    arn: str
    topic_arn: str
    account_id: str
    region: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]
    confirmed: bool
    token: str | None
    created_at: float
    principal: str | None = None  # the IAM principal that subscribed

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false") == "true"

    @property
    def dead_letter_arn(self) -> str | None:
        return policies.validate_redrive_policy(self.attributes.get("RedrivePolicy", ""))


def from_row(row: Row) -> Subscription:
    return Subscription(row["arn"], row["topic_arn"], row["account_id"], row["region"], row["protocol"],
                        row["endpoint"], json.loads(row["attributes"]), bool(row["confirmed"]), row["token"],
                        row["created_at"], row["principal"])


def find(conn: Connection, arn: str) -> Subscription | None:
    row = conn.execute("SELECT * FROM sns_subscriptions WHERE arn = ?", (arn,)).fetchone()
    return from_row(row) if row else None


def get(conn: Connection, arn: str) -> Subscription:
    parse_subscription_arn(arn)
    subscription = find(conn, arn)
    if subscription is None:
        raise subscription_not_found()
    return subscription


def of_topic(conn: Connection, topic_arn: str) -> list[Subscription]:
    return [from_row(r) for r in conn.execute("SELECT * FROM sns_subscriptions WHERE topic_arn = ?", (topic_arn,))]


def _validate_endpoint(topic: Topic, protocol: str, endpoint: str | None, attributes: dict[str, str]) -> str:
    if protocol not in PROTOCOLS:
        raise invalid_parameter(f"Amazon SNS does not support this protocol string: {protocol}")
    if not endpoint:
        raise invalid_parameter("Endpoint")
    if protocol in {"http", "https"} and not re.match(rf"^{protocol}://[^/\s]+", endpoint):
        raise invalid_parameter("Endpoint must match the specified protocol")
    if protocol == "sqs":
        parts = sqs_queue_parts(endpoint)
        if parts is None:
            raise invalid_parameter("SQS endpoint ARN")
        if parts[2].endswith(".fifo") and not topic.fifo:
            # AWS's message repeats its own prefix (recorded).
            raise invalid_parameter("Invalid parameter: Endpoint",
                                    "FIFO SQS Queues can not be subscribed to standard SNS topics")
    if protocol == "lambda" and lambda_function_parts(endpoint) is None:
        raise invalid_parameter("Lambda endpoint ARN")
    if protocol in {"email", "email-json"} and not re.match(r"^[^@\s]+@[^@\s]+$", endpoint):
        raise invalid_parameter("Email address")
    if protocol == "sms" and not _sms_number(endpoint):
        raise AwsError("InvalidParameter", f"Invalid SMS endpoint: {endpoint}", 400)
    if protocol == "application" and not re.match(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint/", endpoint):
        raise invalid_parameter("Application endpoint arn invalid")
    if protocol == "firehose":
        if not re.match(r"^arn:aws[a-z-]*:firehose:[a-z0-9-]+:\d{12}:deliverystream/", endpoint):
            raise invalid_parameter("Firehose endpoint ARN")
        if not attributes.get("SubscriptionRoleArn"):
            raise invalid_parameter("Invalid parameter: SubscriptionRoleArn")
    if topic.fifo and protocol != "sqs":
        raise invalid_parameter("Endpoint", f"FIFO topics do not support the {protocol} protocol")
    return endpoint


def _sms_number(endpoint: str) -> bool:
    """E.164-like: an optional +, then up to 15 digits, single hyphens allowed between them."""
    return bool(re.fullmatch(r"\+?\d+(-\d+)*", endpoint)) and len(re.sub(r"\D", "", endpoint)) <= 15


def check_dead_letter_queue(endpoint: str, value: str) -> None:
    """A FIFO queue subscribed to a FIFO topic needs a FIFO dead-letter queue."""
    target = policies.validate_redrive_policy(value)
    if target and endpoint.endswith(".fifo") and not target.endswith(".fifo"):
        raise InvalidAttribute("RedrivePolicy", "must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.")


def validate_attribute(protocol: str, name: str, value: str) -> str:
    if name not in SETTABLE:
        raise invalid_parameter("AttributeName")
    if name == "RawMessageDelivery":
        if value.lower() not in {"true", "false"}:
            raise InvalidAttribute("RawMessageDelivery", f"Invalid value [{value}]. Must be true or false.")
        if protocol not in RAW_CAPABLE:
            raise invalid_parameter("Attributes",
                                    f"Delivery protocol [{protocol}] does not support raw message delivery.")
        return value.lower()
    if name == "FilterPolicyScope" and value not in {"MessageAttributes", "MessageBody"}:
        raise InvalidAttribute("FilterPolicyScope", f"Invalid value [{value}]. "
                               "Please use either MessageBody or MessageAttributes")
    if name == "RedrivePolicy":
        policies.validate_redrive_policy(value)
    if name == "DeliveryPolicy" and value:
        if protocol not in {"http", "https"}:
            raise invalid_parameter("DeliveryPolicy", f"Delivery protocol [{protocol}] does not support delivery policies")
        policies.validate_subscription_delivery_policy(value)
    return value


def _check_filter(attributes: dict[str, str]) -> None:
    text = attributes.get("FilterPolicy")
    if not text:
        return
    try:
        compile_filter_policy(text, attributes.get("FilterPolicyScope", "MessageAttributes"))
    except InvalidPattern as error:
        if error.dialect == "sns-scope":
            raise AwsError("InvalidParameter", error.full_message, 400) from None
        raise InvalidAttribute("FilterPolicy", error.reason) from None


# "Filter policy constraints in Amazon SNS": by default up to 200 filter policies per topic and
# 10,000 per account (per Region); more answers FilterPolicyLimitExceeded (HTTP 403).
FILTER_POLICIES_PER_TOPIC = 200
FILTER_POLICIES_PER_ACCOUNT = 10_000


def _check_filter_quota(conn: Connection, topic_arn: str, account_id: str, region: str) -> None:
    """Called before a subscription without a filter policy gets one."""
    # `attributes` is json.dumps output: a key is `"Name": `; inside a string value a quote is escaped.
    count = "SELECT COUNT(*) FROM sns_subscriptions WHERE {} AND attributes LIKE '%\"FilterPolicy\": %'"
    on_topic = conn.execute(count.format("topic_arn = ?"), (topic_arn,)).fetchone()[0]
    in_account = conn.execute(count.format("account_id = ? AND region = ?"), (account_id, region)).fetchone()[0]
    if on_topic >= FILTER_POLICIES_PER_TOPIC or in_account >= FILTER_POLICIES_PER_ACCOUNT:
        raise AwsError("FilterPolicyLimitExceeded", "Filter policy limit exceeded", 403)


def _clean(attributes: dict[str, str]) -> dict[str, str]:
    # A FilterPolicyScope set before the FilterPolicy is kept (and applies once a policy is set);
    # AWS lists the scope only while a policy exists.
    return {k: v for k, v in attributes.items() if v != ""}


def subscribe(conn: Connection, topic: Topic, protocol: str, endpoint: str | None,
              attributes: dict[str, str], account_id: str, now: float,
              principal: str | None = None) -> tuple[Subscription, bool]:
    """The subscription and whether it is new. New subscriptions that need confirmation get a token."""
    protocol = protocol.lower()
    endpoint = _validate_endpoint(topic, protocol, endpoint, attributes)
    try:
        given = {name: validate_attribute(protocol, name, str(value)) for name, value in attributes.items()}
        given = _clean(given)
        _check_filter(given)
        if given.get("RedrivePolicy"):
            check_dead_letter_queue(endpoint, given["RedrivePolicy"])
    except InvalidAttribute as error:
        raise error.at_creation() from None
    row = conn.execute("SELECT * FROM sns_subscriptions WHERE topic_arn = ? AND protocol = ? AND endpoint = ?",
                       (topic.arn, protocol, endpoint)).fetchone()
    if row is not None:
        existing = from_row(row)
        # Subscribing again is idempotent when every given attribute has its current (or default) value.
        current = {**ATTRIBUTE_DEFAULTS, **existing.attributes}
        if any(current.get(name) != value for name, value in given.items()):
            raise invalid_parameter("Attributes", "Subscription already exists with different attributes")
        return existing, False
    if given.get("FilterPolicy"):
        _check_filter_quota(conn, topic.arn, account_id, topic.key.region)
    confirmed = protocol not in NEEDS_CONFIRMATION
    subscription = Subscription(new_subscription_arn(topic.arn), topic.arn, account_id, topic.key.region, protocol,
                                endpoint, given, confirmed, None if confirmed else secrets.token_hex(64), now,
                                principal)
    conn.execute(
        "INSERT INTO sns_subscriptions (arn, topic_arn, account_id, region, protocol, endpoint, attributes,"
        " confirmed, token, created_at, principal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (subscription.arn, topic.arn, account_id, subscription.region, protocol, endpoint, json.dumps(given),
         int(confirmed), subscription.token, now, principal),
    )
    return subscription, True


def check_token_format(token: str) -> None:
    """A token that could never have been issued (tokens are hex) is "Invalid token" (recorded)."""
    if not re.fullmatch(r"[0-9a-f]+", token):
        raise AwsError("InvalidParameter", "Invalid token", 400)


def confirm(conn: Connection, topic: Topic, token: str, now: float) -> Subscription:
    row = conn.execute("SELECT * FROM sns_subscriptions WHERE topic_arn = ? AND token = ?",
                       (topic.arn, token)).fetchone()
    if row is None or now - row["created_at"] > TOKEN_LIFETIME:
        raise invalid_parameter("Token")
    conn.execute("UPDATE sns_subscriptions SET confirmed = 1 WHERE arn = ?", (row["arn"],))
    subscription = from_row(row)
    subscription.confirmed = True
    return subscription


def unsubscribe(conn: Connection, arn: str) -> Subscription | None:
    """Remove a subscription; an unknown (well-formed) ARN succeeds, as on AWS."""
    parse_subscription_arn(arn)
    subscription = find(conn, arn)
    if subscription is None:
        return None
    conn.execute("DELETE FROM sns_subscriptions WHERE arn = ?", (arn,))
    conn.execute("UPDATE sns_topics SET subscriptions_deleted = subscriptions_deleted + 1 WHERE arn = ?",
                 (subscription.topic_arn,))
    return subscription


def attributes_view(subscription: Subscription, topic: Topic | None) -> dict[str, str]:
    view = {
        "SubscriptionArn": subscription.arn,
        "TopicArn": subscription.topic_arn,
        "Owner": subscription.account_id,
        "Protocol": subscription.protocol,
        "Endpoint": subscription.endpoint,
        "ConfirmationWasAuthenticated": "true" if subscription.confirmed else "false",
        "PendingConfirmation": "false" if subscription.confirmed else "true",
        "RawMessageDelivery": "false",
        "SubscriptionPrincipal": subscription.principal or root_principal(subscription.region, subscription.account_id),
    }
    view.update(subscription.attributes)
    if "FilterPolicy" in view:
        view.setdefault("FilterPolicyScope", "MessageAttributes")
    else:
        view.pop("FilterPolicyScope", None)
    if subscription.protocol in {"http", "https"}:
        effective = policies.effective_subscription_delivery_policy(
            topic.attributes.get("DeliveryPolicy") if topic else None, subscription.attributes.get("DeliveryPolicy"))
        view["EffectiveDeliveryPolicy"] = json.dumps(effective, separators=(",", ":"))
    return view


def set_attribute(conn: Connection, subscription: Subscription, name: str, value: str) -> None:
    value = validate_attribute(subscription.protocol, name, value)
    if name == "RedrivePolicy":
        check_dead_letter_queue(subscription.endpoint, value)
    attributes = dict(subscription.attributes)
    attributes[name] = value
    attributes = _clean(attributes)
    _check_filter(attributes)
    if attributes.get("FilterPolicy") and not subscription.attributes.get("FilterPolicy"):
        _check_filter_quota(conn, subscription.topic_arn, subscription.account_id, subscription.region)
    conn.execute("UPDATE sns_subscriptions SET attributes = ? WHERE arn = ?", (json.dumps(attributes), subscription.arn))


def list_page(conn: Connection, where: str, args: tuple[str, ...], token: str | None,
              listing: str) -> paging.Page[Subscription]:
    """A page of subscriptions (100, as AWS pages them), keyset by ARN."""
    after = paging.unseal(token, listing, token_error) if token else None

    def read(key: paging.Key | None, count: int) -> list[Subscription]:
        sql, key_args = paging.keyset_sql("SELECT * FROM sns_subscriptions", where, ["arn"], key)
        return [from_row(row) for row in conn.execute(sql, [*args, *key_args, count]).fetchall()]

    return paging.page(read, lambda subscription: (subscription.arn,), PAGE_SIZE, after, listing=listing)


def listed(subscription: Subscription) -> dict[str, str]:
    return {
        # Pending subscriptions are listed without their ARN (AWS shows "PendingConfirmation").
        "SubscriptionArn": subscription.arn if subscription.confirmed else "PendingConfirmation",
        "Owner": subscription.account_id, "Protocol": subscription.protocol, "Endpoint": subscription.endpoint,
        "TopicArn": subscription.topic_arn,
    }

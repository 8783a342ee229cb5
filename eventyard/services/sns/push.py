"""Delivering to mobile endpoints: the platform-specific payload, and a platform that rejects a token.

No push service (APNS, FCM, ...) is reachable, so a delivery is captured for
`GET /_eventyard/sns/deliveries` with the payload the platform would receive. To test what happens
when a platform rejects a device token (the app was uninstalled), a token that starts with
`REJECTED_TOKEN_PREFIX` ("bad", which is hexadecimal, so APNS tokens can use it too) is rejected:
the delivery is captured as failed and SNS sets the endpoint's `Enabled` attribute to false, as AWS
does on the platform's feedback; later publishes to it answer `EndpointDisabled` until the
endpoint is enabled again with SetEndpointAttributes.
"""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.sns import outbox
from eventyard.services.sns.errors import invalid_parameter
from eventyard.services.sns.platform_apps import (
    Application,
    Endpoint,
    find_application,
    find_endpoint,
    set_endpoint_attributes,
)
from eventyard.storage import Connection

REJECTED_TOKEN_PREFIX = "bad"
JSON_PLATFORMS = {"APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "GCM", "ADM", "BAIDU"}


def endpoint_disabled() -> AwsError:
    return AwsError("EndpointDisabled", "Endpoint is disabled", 400)


def application_disabled() -> AwsError:
    return AwsError("PlatformApplicationDisabled", "Platform application is disabled", 400)


def structured_messages(message: str, platform: str) -> dict[str, str]:
    """MessageStructure=json for an endpoint: a `default` entry or one for the endpoint's platform."""
    try:
        messages = json.loads(message)
    except ValueError:
        raise invalid_parameter("Message Structure - JSON message body failed to parse") from None
    if not isinstance(messages, dict) or not all(isinstance(v, str) for v in messages.values()):
        raise invalid_parameter("Message Structure - JSON message body failed to parse")
    if "default" not in messages and platform not in messages:
        raise invalid_parameter(f"JSON must contain an entry for 'default' or '{platform}'.")
    return messages


def platform_payload(platform: str, message: str, messages: dict[str, str] | None) -> str:
    """What the push service receives: the platform's own entry as given, else the default message
    in the platform's notification shape."""
    if messages and platform in messages:
        payload = messages[platform]
        if platform in JSON_PLATFORMS:
            try:
                json.loads(payload)
            except ValueError:
                raise invalid_parameter("Message", f"Invalid notification for protocol {platform}: "
                                        "Notification is malformed") from None
        return payload
    text = messages["default"] if messages else message
    if platform.startswith("APNS"):
        return json.dumps({"aps": {"alert": text}})
    if platform in {"GCM", "ADM"}:
        return json.dumps({"data": {"default": text}})
    if platform == "BAIDU":
        return json.dumps({"title": text, "description": text})
    return text  # MPNS and WNS take the message as it is


def deliver(conn: Connection, application: Application, endpoint: Endpoint, document: dict[str, Any],
            now: float, subscription_arn: str | None = None) -> bool:
    """Capture one push (inside the caller's transaction). False when the platform rejected the token,
    which disables the endpoint."""
    token = endpoint.attributes.get("Token", "")
    rejected = token.startswith(REJECTED_TOKEN_PREFIX)
    record: dict[str, Any] = {
        "protocol": "application", "platform": application.platform, "endpoint": endpoint.arn,
        "application_arn": application.arn, "token": token, "message_id": document["MessageId"],
        "type": "Notification", "subject": document.get("Subject"), "timestamp": document["Timestamp"],
        "message": platform_payload(application.platform, document["Message"], document.get("Messages")),
        "message_attributes": document.get("MessageAttributes") or {},
        "status": "failed" if rejected else "delivered",
    }
    if subscription_arn:
        record["subscription_arn"] = subscription_arn
        record["topic_arn"] = document.get("TopicArn")
    if rejected:
        record["reason"] = "The platform rejected the device token (InvalidToken); the endpoint was disabled."
        set_endpoint_attributes(conn, endpoint, {"Enabled": "false"})
    outbox.capture(conn, record, now)
    return not rejected


async def deliver_to_subscription(platform: Any, document: dict[str, Any], subscription_arn: str,
                                  endpoint_arn: str) -> None:
    """A topic's delivery to an `application` subscription. AWS drops it when the endpoint is gone
    or disabled (or its application is)."""
    now = platform.clock.now()

    def run(conn: Connection) -> None:
        endpoint = find_endpoint(conn, endpoint_arn)
        if endpoint is None or not endpoint.enabled:
            return
        application = find_application(conn, endpoint.application_arn)
        if application is None or application.attributes.get("Enabled", "true").lower() != "true":
            return
        deliver(conn, application, endpoint, document, now, subscription_arn)

    await platform.db.write(run)

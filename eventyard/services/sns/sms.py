"""SMS: the account's SMS attributes, the opted-out phone numbers, the SMS sandbox's destination
numbers, and publishing a text message (captured for `GET /_eventyard/sns/deliveries`).

No carrier is reachable, so a number opts out through Eventyard's own endpoint
(`POST /_eventyard/sns/opt-outs {"phoneNumber": ...}`, as a recipient replying STOP would), and the
one-time password a sandbox number receives is captured like any SMS. Accounts are outside the SMS
sandbox (`GetSMSSandboxAccountStatus` answers false), as after AWS has moved an account out of it;
sandbox numbers can still be added, verified, listed and deleted.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.protocol.values import iso8601
from eventyard.services.sns import outbox
from eventyard.services.sns.envelope import protocol_message
from eventyard.services.sns.errors import invalid_parameter
from eventyard.storage import Connection

E164 = re.compile(r"^\+?[1-9][0-9]{1,14}$")
SMS_TYPES = {"Promotional", "Transactional"}
SMS_ATTRIBUTES = {"MonthlySpendLimit", "DeliveryStatusIAMRole", "DeliveryStatusSuccessSamplingRate",
                  "DefaultSenderID", "DefaultSMSType", "UsageReportS3Bucket"}
SMS_MESSAGE_ATTRIBUTES = {"AWS.SNS.SMS.SenderID", "AWS.SNS.SMS.SMSType", "AWS.SNS.SMS.MaxPrice",
                          "AWS.MM.SMS.OriginationNumber", "AWS.MM.SMS.EntityId", "AWS.MM.SMS.TemplateId"}
OPT_IN_INTERVAL = 30 * 86400.0  # AWS: a number can be opted back in once every 30 days
MAX_SMS_BYTES = 1600


def check_number(number: str, parameter: str = "PhoneNumber", reason: str = "input incorrectly formatted") -> str:
    if not E164.match(number):
        raise invalid_parameter(parameter, reason)
    return number if number.startswith("+") else f"+{number}"


# -- account attributes ---------------------------------------------------------------------
def get_attributes(conn: Connection, account: str, region: str) -> dict[str, str]:
    row = conn.execute("SELECT attributes FROM sns_sms_settings WHERE account_id = ? AND region = ?",
                       (account, region)).fetchone()
    return json.loads(row[0]) if row else {}


def set_attributes(conn: Connection, account: str, region: str, given: dict[str, str]) -> None:
    for name, value in given.items():
        # Worded without the usual "Invalid parameter:" frame (recorded against AWS).
        if name not in SMS_ATTRIBUTES:
            raise AwsError("InvalidParameter", f"{name} is not a valid attribute")
        if name == "DefaultSMSType" and value not in SMS_TYPES:
            raise AwsError("InvalidParameter", "DefaultSMSType is invalid")
        if name in {"MonthlySpendLimit", "DeliveryStatusSuccessSamplingRate"} and not value.isdigit():
            raise invalid_parameter(name, f"{name} must be a whole number")
        if name == "DeliveryStatusSuccessSamplingRate" and int(value) > 100:
            raise invalid_parameter(name, "DeliveryStatusSuccessSamplingRate must be between 0 and 100")
        if name == "DefaultSenderID" and not re.match(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$", value):
            raise invalid_parameter("DefaultSenderID", "DefaultSenderID must be 1 to 11 alphanumeric characters "
                                    "with at least one letter")
    merged = {**get_attributes(conn, account, region), **given}
    conn.execute("INSERT INTO sns_sms_settings (account_id, region, attributes) VALUES (?, ?, ?)"
                 " ON CONFLICT (account_id, region) DO UPDATE SET attributes = excluded.attributes",
                 (account, region, json.dumps(merged)))


# -- opt-outs -------------------------------------------------------------------------------
def is_opted_out(conn: Connection, account: str, region: str, number: str) -> bool:
    row = conn.execute("SELECT opted_out FROM sns_sms_opt_outs WHERE account_id = ? AND region = ? AND phone = ?",
                       (account, region, number)).fetchone()
    return bool(row and row[0])


def opt_out(conn: Connection, account: str, region: str, number: str, now: float) -> None:
    conn.execute("INSERT INTO sns_sms_opt_outs (account_id, region, phone, opted_out, changed_at) VALUES"
                 " (?, ?, ?, 1, ?) ON CONFLICT (account_id, region, phone) DO UPDATE SET opted_out = 1,"
                 " changed_at = excluded.changed_at", (account, region, number, now))


def opt_in(conn: Connection, account: str, region: str, number: str, now: float) -> None:
    row = conn.execute("SELECT opted_out, opted_in_at FROM sns_sms_opt_outs WHERE account_id = ? AND region = ? AND"
                       " phone = ?", (account, region, number)).fetchone()
    if row is None or not row[0]:
        return  # nothing to do: the number is not opted out
    if row[1] is not None and now - float(row[1]) < OPT_IN_INTERVAL:
        raise invalid_parameter("phoneNumber", "A phone number can be opted in only once every 30 days")
    conn.execute("UPDATE sns_sms_opt_outs SET opted_out = 0, opted_in_at = ?, changed_at = ? WHERE account_id = ?"
                 " AND region = ? AND phone = ?", (now, now, account, region, number))


def opted_out_numbers(conn: Connection, account: str, region: str) -> list[str]:
    rows = conn.execute("SELECT phone FROM sns_sms_opt_outs WHERE account_id = ? AND region = ? AND opted_out = 1"
                        " ORDER BY phone", (account, region)).fetchall()
    return [r[0] for r in rows]


# -- the SMS sandbox ------------------------------------------------------------------------
def sandbox_number_not_found() -> AwsError:
    return AwsError("ResourceNotFound", "The phone number does not exist in the SMS sandbox.", 404)


def add_sandbox_number(conn: Connection, account: str, region: str, number: str, language: str, now: float) -> str:
    if is_opted_out(conn, account, region, number):
        raise AwsError("OptedOut", "The destination phone number is opted out of receiving SMS messages.", 400)
    code = f"{random.randint(0, 999999):06d}"
    conn.execute("INSERT INTO sns_sms_sandbox (account_id, region, phone, status, otp, created_at) VALUES"
                 " (?, ?, ?, 'Pending', ?, ?) ON CONFLICT (account_id, region, phone) DO UPDATE SET status ="
                 " 'Pending', otp = excluded.otp", (account, region, number, code, now))
    outbox.capture(conn, {"protocol": "sms", "endpoint": number, "phone_number": number, "type": "SandboxOTP",
                          "message": f"Your Amazon SNS sandbox verification code is: {code}", "otp": code,
                          "language": language, "timestamp": iso8601(now), "status": "delivered"}, now)
    return code


def verify_sandbox_number(conn: Connection, account: str, region: str, number: str, code: str) -> None:
    row = conn.execute("SELECT status, otp FROM sns_sms_sandbox WHERE account_id = ? AND region = ? AND phone = ?",
                       (account, region, number)).fetchone()
    if row is None:
        raise sandbox_number_not_found()
    if row[0] != "Verified" and row[1] != code:
        error = AwsError("VerificationException", "Invalid one-time password.", 400)
        error.fields = {"Status": "Pending"}  # type: ignore[attr-defined]
        raise error
    conn.execute("UPDATE sns_sms_sandbox SET status = 'Verified' WHERE account_id = ? AND region = ? AND phone = ?",
                 (account, region, number))


def delete_sandbox_number(conn: Connection, account: str, region: str, number: str) -> None:
    if conn.execute("DELETE FROM sns_sms_sandbox WHERE account_id = ? AND region = ? AND phone = ? RETURNING phone",
                    (account, region, number)).fetchone() is None:
        raise sandbox_number_not_found()


def sandbox_numbers(conn: Connection, account: str, region: str) -> list[dict[str, str]]:
    rows = conn.execute("SELECT phone, status FROM sns_sms_sandbox WHERE account_id = ? AND region = ? ORDER BY phone",
                        (account, region)).fetchall()
    return [{"PhoneNumber": r[0], "Status": r[1]} for r in rows]


# -- sending --------------------------------------------------------------------------------
def split_message_attributes(attributes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The AWS.SNS.SMS.* settings of a publish to a phone number, apart from its other attributes."""
    own: dict[str, str] = {}
    rest = {}
    for name, value in attributes.items():
        if name in SMS_MESSAGE_ATTRIBUTES:
            own[name] = str(value.get("StringValue", ""))
        else:
            rest[name] = value
    if "AWS.SNS.SMS.SMSType" in own and own["AWS.SNS.SMS.SMSType"] not in SMS_TYPES:
        raise invalid_parameter("MessageAttributes", "AWS.SNS.SMS.SMSType must be Promotional or Transactional")
    return rest, own


def send(conn: Connection, account: str, region: str, number: str, document: dict[str, Any],
         settings: dict[str, str], now: float, subscription_arn: str | None = None) -> None:
    """Capture one text message (or its failure for an opted-out number) in the caller's transaction."""
    account_settings = get_attributes(conn, account, region)
    text = protocol_message(document, "sms")  # a MessageStructure=json publish's `sms` (or default) entry
    record: dict[str, Any] = {
        "protocol": "sms", "endpoint": number, "phone_number": number, "message_id": document["MessageId"],
        "type": "Notification", "message": text, "subject": document.get("Subject"),
        "message_attributes": document.get("MessageAttributes") or {}, "timestamp": iso8601(now),
        "sms_type": settings.get("AWS.SNS.SMS.SMSType") or account_settings.get("DefaultSMSType", "Promotional"),
        "sender_id": settings.get("AWS.SNS.SMS.SenderID") or account_settings.get("DefaultSenderID"),
        "parts": max(1, -(-len(text.encode()) // 140)),
        "status": "delivered",
    }
    if subscription_arn:
        record.update(subscription_arn=subscription_arn, topic_arn=document.get("TopicArn"))
    if is_opted_out(conn, account, region, number):
        record.update(status="failed", reason="Phone is currently opted out")
    outbox.capture(conn, record, now)


async def deliver_to_subscription(platform: Any, document: dict[str, Any], subscription_arn: str,
                                  number: str) -> None:
    """A topic's delivery to an `sms` subscription (the topic's account and region send it)."""
    _, _, _, region, account, _ = str(document["TopicArn"]).split(":", 5)
    now = platform.clock.now()
    await platform.db.write(lambda conn: send(conn, account, region, number, document, {}, now, subscription_arn))

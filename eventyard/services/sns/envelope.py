"""What a subscriber receives: the SNS JSON envelope (per protocol), raw bodies, Lambda records.

The message document stored at publish time carries every field; these functions only shape it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from eventyard.services.sns.signing import Signer

# How a MessageStructure=json message picks its text for each subscription protocol.
STRUCTURE_KEYS = {"application": "default"}


def protocol_message(document: dict[str, Any], protocol: str) -> str:
    per_protocol = document.get("Messages")
    if per_protocol:
        return str(per_protocol.get(STRUCTURE_KEYS.get(protocol, protocol), per_protocol["default"]))
    return str(document["Message"])


def unsubscribe_url(public_url: str, subscription_arn: str) -> str:
    # AWS writes the ARN into the link as it is (its colons are not percent-encoded).
    return f"{public_url}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"


def envelope_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """SNS's envelope shape for message attributes: {"name": {"Type": ..., "Value": ...}}."""
    out = {}
    for name, value in attributes.items():
        text = value.get("StringValue")
        if text is None:
            text = value.get("BinaryValue", "")  # stored base64, as the envelope shows binaries
        out[name] = {"Type": value["DataType"], "Value": text}
    return out


def envelope(document: dict[str, Any], protocol: str, subscription_arn: str | None, signer: Signer,
             public_url: str, signature_version: str) -> dict[str, Any]:
    kind = document["Type"]
    out: dict[str, Any] = {"Type": kind, "MessageId": document["MessageId"]}
    if kind == "Notification":
        if document.get("SequenceNumber"):
            out["SequenceNumber"] = document["SequenceNumber"]
        out["TopicArn"] = document["TopicArn"]
        if document.get("Subject") is not None:
            out["Subject"] = document["Subject"]
        out["Message"] = protocol_message(document, protocol)
        out["Timestamp"] = document["Timestamp"]
    else:
        out["Token"] = document["Token"]
        out["TopicArn"] = document["TopicArn"]
        out["Message"] = document["Message"]
        out["SubscribeURL"] = document["SubscribeURL"]
        out["Timestamp"] = document["Timestamp"]
    if not document.get("SequenceNumber"):
        # Messages of FIFO topics (they carry a SequenceNumber) are not signed (recorded against AWS).
        out["SignatureVersion"] = signature_version
        out["Signature"] = signer.sign(out, signature_version)
        out["SigningCertURL"] = f"{public_url}/_eventyard/sns/{signer.certificate_name}"
    if kind == "Notification" and subscription_arn:
        out["UnsubscribeURL"] = unsubscribe_url(public_url, subscription_arn)
        if document.get("MessageAttributes"):
            out["MessageAttributes"] = envelope_attributes(document["MessageAttributes"])
    return out


def sqs_message_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Raw delivery maps SNS message attributes onto SQS message attributes."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        if value.get("BinaryValue") is not None:
            out[name] = {"DataType": value["DataType"], "BinaryValue": base64.b64decode(value["BinaryValue"])}
        else:
            out[name] = {"DataType": value["DataType"], "StringValue": value["StringValue"]}
    return out


def lambda_event(document: dict[str, Any], subscription_arn: str, signed: dict[str, Any]) -> bytes:
    """The event a Lambda subscriber receives (`Records[].Sns`, with Lambda's own key casing)."""
    # Recorded against AWS: the record always says SignatureVersion "1", even when the topic signs
    # with version 2 (SHA256) and the Signature is made that way.
    version = "1" if signed.get("SignatureVersion") else None
    sns = {
        "Type": signed["Type"], "MessageId": signed["MessageId"], "TopicArn": signed["TopicArn"],
        "Subject": signed.get("Subject"), "Message": signed["Message"], "Timestamp": signed["Timestamp"],
        "SignatureVersion": version, "Signature": signed.get("Signature"),
        "SigningCertUrl": signed.get("SigningCertURL"), "UnsubscribeUrl": signed.get("UnsubscribeURL"),
        "MessageAttributes": signed.get("MessageAttributes", {}),
    }
    record = {"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn, "Sns": sns}
    return json.dumps({"Records": [record]}).encode()

"""Message attributes: AWS's validation rules and the MD5 digest botocore checks on every response.

The digest is SQS's documented encoding: for each attribute in name order, the 4-byte big-endian
length and UTF-8 bytes of the name, of the data type, a transport byte (1 string, 2 binary), then
the length and bytes of the value.
"""

from __future__ import annotations

import hashlib
import re
import struct
from typing import Any

from eventyard.protocol.errors import AwsError

MAX_ATTRIBUTES = 10
# Letters and digits of any script, "_", "-" and "." (recorded: 'attr.1øßä' is a valid name).
_NAME = re.compile(r"^[\w.-]{1,256}$")
_RESERVED_PREFIXES = ("aws.", "amazon.")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _framed(data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + data


def attributes_md5(attributes: dict[str, dict[str, Any]]) -> str | None:
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        data_type = value["DataType"]
        digest.update(_framed(name.encode()))
        digest.update(_framed(data_type.encode()))
        if value.get("BinaryValue") is not None:
            digest.update(b"\x02")
            digest.update(_framed(value["BinaryValue"]))
        else:
            digest.update(b"\x01")
            digest.update(_framed(value.get("StringValue", "").encode()))
    return digest.hexdigest()


def attributes_size(attributes: dict[str, dict[str, Any]]) -> int:
    """Bytes that count toward the message size limit: names, types and values."""
    total = 0
    for name, value in attributes.items():
        total += len(name.encode()) + len(value.get("DataType", "").encode())
        if value.get("BinaryValue") is not None:
            total += len(value["BinaryValue"])
        else:
            total += len(value.get("StringValue", "").encode())
    return total


def validate_message_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Check attributes as SQS does and return them in the stored form (DataType + one value)."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise AwsError(
            "InvalidParameterValue",
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
        )
    stored: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        lowered = name.lower()
        if (not _NAME.match(name) or name.startswith(".") or name.endswith(".") or ".." in name
                or lowered.startswith(_RESERVED_PREFIXES)):
            raise AwsError("InvalidParameterValue", f"Message (user) attribute '{name}' has an invalid name.")
        data_type = value.get("DataType")
        if not data_type:
            raise AwsError("InvalidParameterValue",
                           f"The message attribute '{name}' must contain non-empty message attribute type.")
        base = data_type.split(".", 1)[0]
        if base not in {"String", "Number", "Binary"} or len(data_type) > 256:
            raise AwsError("InvalidParameterValue",
                           f"The type of message (user) attribute '{name}' is invalid. You must use only the "
                           "following supported type prefixes: Binary, Number, String.")
        if value.get("StringListValues") or value.get("BinaryListValues"):
            raise AwsError("InvalidParameterValue",
                           "Message attribute list values in SendMessage operation are not supported.")
        if base == "Binary":
            blob = value.get("BinaryValue")
            if blob is None or len(blob) == 0:
                raise AwsError("InvalidParameterValue",
                               f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
            stored[name] = {"DataType": data_type, "BinaryValue": blob}
            continue
        text = value.get("StringValue")
        if text is None or text == "":
            raise AwsError("InvalidParameterValue",
                           f"Message (user) attribute '{name}' must contain a non-empty value of type '{base}'.")
        if base == "Number":
            _check_number(name, text)
        try:
            check_characters(text)
        except AwsError as error:  # in an attribute value it is an invalid parameter (recorded)
            raise AwsError("InvalidParameterValue", error.message) from None
        stored[name] = {"DataType": data_type, "StringValue": text}
    return stored


def _check_number(name: str, text: str) -> None:
    try:
        number = float(text)
    except ValueError:
        raise AwsError("InvalidParameterValue",
                       f"Can't cast the value of message (user) attribute '{name}' to a number.") from None
    if abs(number) > 1e126 or (number != 0 and abs(number) < 1e-128):
        raise AwsError("InvalidParameterValue",
                       f"Value of message (user) attribute '{name}' is out of range.")


_INVALID_CHARS = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def check_characters(text: str) -> None:
    if _INVALID_CHARS.search(text):
        raise AwsError(
            "InvalidMessageContents",
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
            "#xE000 to #xFFFD | #x10000 to #x10FFFF",
        )


def select_attributes(stored: dict[str, dict[str, Any]] | None, requested: list[str]) -> dict[str, dict[str, Any]]:
    """The attributes a receiver asked for: `All`, `.*` or `*`, a `prefix.*`, or exact names."""
    if not stored or not requested:
        return {}
    if "All" in requested or ".*" in requested or "*" in requested:
        return dict(stored)
    chosen = {}
    for name, value in stored.items():
        for wanted in requested:
            # `Hel.*` selects every name starting with "Hel" (recorded: Hello and Help.Me).
            if wanted == name or (wanted.endswith(".*") and name.startswith(wanted[:-2])):
                chosen[name] = value
                break
    return chosen

"""Conversions between wire values and Python values, shared by the protocols.

Inside Eventyard a timestamp is a float of epoch seconds (or a datetime) and a blob is `bytes`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from eventyard.protocol.errors import AwsError


class WireTypeError(AwsError):
    """A value of the wrong JSON type: AWS's JSON front end answers SerializationException."""

    def __init__(self, message: str) -> None:
        super().__init__("SerializationException", message, 400)


def decode_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WireTypeError("Base64 decoding failed") from exc


def parse_timestamp(value: Any) -> float:
    if isinstance(value, bool):
        raise WireTypeError("Expected a timestamp")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise WireTypeError(f"Invalid timestamp '{value}'") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    raise WireTypeError("Expected a timestamp")


def epoch_seconds(value: Any) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    return float(value)


def iso8601(value: Any) -> str:
    moment = dt.datetime.fromtimestamp(epoch_seconds(value), tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rfc822(value: Any) -> str:
    moment = dt.datetime.fromtimestamp(epoch_seconds(value), tz=dt.UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def encode_base64(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode("ascii")

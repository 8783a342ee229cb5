"""Shard iterators and list tokens: opaque, self-describing strings.

An iterator carries everything GetRecords needs (stream, shard, position, creation time), so no
server state backs it: it survives restarts, and expiry (5 minutes, as in AWS) is checked from the
time written inside it. A checksum keeps a mangled token from being read as a position.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import zlib
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError

ITERATOR_LIFETIME = 300.0
NEXT_TOKEN_LIFETIME = 300.0


@dataclass(frozen=True)
class ShardIterator:
    stream_id: int
    shard_index: int
    position: int  # the next record to read
    created_at: float


def _encode(document: dict[str, Any]) -> str:
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return base64.b64encode(zlib.crc32(raw).to_bytes(4, "big") + raw).decode("ascii")


def _decode(token: str) -> dict[str, Any] | None:
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 5 or zlib.crc32(raw[4:]).to_bytes(4, "big") != raw[:4]:
        return None
    try:
        document = json.loads(raw[4:])
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def encode_iterator(iterator: ShardIterator) -> str:
    return _encode({"k": "it", "s": iterator.stream_id, "i": iterator.shard_index, "p": iterator.position,
                    "t": iterator.created_at})


def decode_iterator(token: str, now: float) -> ShardIterator:
    if len(token) > 2 and token[0] == token[-1] == '"':
        token = token[1:-1]  # AWS reads an iterator wrapped in double quotes as the iterator (recorded)
    document = _decode(token)
    if document is None or document.get("k") != "it":
        raise AwsError("InvalidArgumentException", "Invalid ShardIterator.")
    iterator = ShardIterator(int(document["s"]), int(document["i"]), int(document["p"]), float(document["t"]))
    if now - iterator.created_at > ITERATOR_LIFETIME:
        raise AwsError("ExpiredIteratorException", f"Iterator expired. The iterator was created at time "
                       f"{java_date(iterator.created_at)} while right now it is {java_date(now)} which is further "
                       f"in the future than the tolerated delay of {int(ITERATOR_LIFETIME * 1000)} milliseconds.")
    return iterator


def java_date(seconds: float) -> str:
    """AWS's messages print times as Java's Date.toString does: `Thu Jul 02 12:57:57 UTC 2015`."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def encode_next_token(kind: str, state: dict[str, Any], now: float) -> str:
    return _encode({"k": kind, "st": state, "t": now})


def decode_next_token(kind: str, token: str, now: float) -> dict[str, Any]:
    document = _decode(token)
    if document is None or document.get("k") != kind:
        raise AwsError("InvalidArgumentException", f"Invalid NextToken: {token}")
    if now - float(document["t"]) > NEXT_TOKEN_LIFETIME:
        raise AwsError("ExpiredNextTokenException", f"The NextToken {token} has expired.")
    state: dict[str, Any] = document["st"]
    return state

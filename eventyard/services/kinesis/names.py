"""Kinesis identifiers in AWS's exact shapes: ARNs, shard ids, sequence numbers, hash key ranges.

Clients parse these (the KCL sorts sequence numbers as big integers and splits ARNs), so their form
matters as much as their uniqueness.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

from eventyard.protocol.errors import AwsError
from eventyard.runtime import partitions

MAX_HASH_KEY = 2**128 - 1
_STREAM_ARN = re.compile(r"^arn:aws[\w-]*:kinesis:([\w-]+):(\d{12}):stream/([a-zA-Z0-9_.-]+)$")
_CONSUMER_ARN = re.compile(
    r"^arn:aws[\w-]*:kinesis:([\w-]+):(\d{12}):stream/([a-zA-Z0-9_.-]+)/consumer/([a-zA-Z0-9_.-]+):(\d+)$")

# A sequence number is 56 decimal digits, as AWS's are: "49", the stream, the shard, then a point in
# the shard: 2p+1 is the record at position p, 2p the gap just before it. A gap is what AWS hands out
# where no record is meant (a shard's StartingSequenceNumber, SubscribeToShard's continuation), so
# AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER of it both resume at the next record.
# Points grow within a shard and children have higher shard indexes than their parents, so
# numbers increase along a shard's lineage too.
_STREAM_DIGITS, _SHARD_DIGITS, _POSITION_DIGITS = 14, 8, 32


class SequencePoint(NamedTuple):
    stream_id: int
    shard_index: int
    at: int  # the first position AT_SEQUENCE_NUMBER reads
    after: int  # the first position AFTER_SEQUENCE_NUMBER reads


def stream_arn(region: str, account_id: str, name: str) -> str:
    return partitions.arn("kinesis", region, account_id, f"stream/{name}")


def consumer_arn(stream: str, name: str, created_at: float) -> str:
    return f"{stream}/consumer/{name}:{int(created_at)}"


def parse_stream_arn(arn: str) -> tuple[str, str, str]:
    """(region, account_id, name) of a stream ARN."""
    match = _STREAM_ARN.match(arn)
    if match is None:
        raise AwsError("InvalidArgumentException", f"StreamARN {arn} is invalid.")
    return match.group(1), match.group(2), match.group(3)


def parse_consumer_arn(arn: str) -> tuple[str, str, str, str]:
    """(region, account_id, stream name, consumer name) of a consumer ARN."""
    match = _CONSUMER_ARN.match(arn)
    if match is None:
        raise AwsError("InvalidArgumentException", f"ConsumerARN {arn} is invalid.")
    return match.group(1), match.group(2), match.group(3), match.group(4)


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def shard_index(text: str) -> int | None:
    """The index of `shardId-000000000003` (also accepts the bare number, as AWS does)."""
    match = re.fullmatch(r"(?:shardId-)?(\d{1,12})", text)
    return int(match.group(1)) if match else None


def _number(stream_id: int, index: int, point: int) -> str:
    return f"49{stream_id:0{_STREAM_DIGITS}d}{index:0{_SHARD_DIGITS}d}{point:0{_POSITION_DIGITS}d}"


def sequence_number(stream_id: int, index: int, position: int) -> str:
    """The sequence number of the record at `position`."""
    return _number(stream_id, index, 2 * position + 1)


def gap_number(stream_id: int, index: int, position: int) -> str:
    """The sequence number of the point just before `position`, where no record is."""
    return _number(stream_id, index, 2 * position)


def parse_sequence_number(text: str) -> SequencePoint | None:
    """Where one of our sequence numbers points, or None if it is not one."""
    if len(text) != 2 + _STREAM_DIGITS + _SHARD_DIGITS + _POSITION_DIGITS or not text.isdigit() or text[:2] != "49":
        return None
    stream = int(text[2:2 + _STREAM_DIGITS])
    index = int(text[2 + _STREAM_DIGITS:2 + _STREAM_DIGITS + _SHARD_DIGITS])
    point = int(text[2 + _STREAM_DIGITS + _SHARD_DIGITS:])
    return SequencePoint(stream, index, point // 2, (point + 1) // 2)


def partition_hash(partition_key: str) -> int:
    """AWS maps a partition key to a 128-bit integer with MD5 of its UTF-8 bytes."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def even_ranges(count: int, low: int = 0, high: int = MAX_HASH_KEY) -> list[tuple[int, int]]:
    """`count` contiguous ranges covering [low, high], as CreateStream and UpdateShardCount lay them out
    (equal widths, the last shard taking the remainder)."""
    width = (high - low + 1) // count
    ranges = [(low + i * width, low + (i + 1) * width - 1) for i in range(count)]
    ranges[-1] = (ranges[-1][0], high)
    return ranges

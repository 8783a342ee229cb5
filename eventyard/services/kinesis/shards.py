"""Shards: their hash key ranges, lineage, listings and resharding (split, merge, uniform scaling).

Resharding closes parents and opens children in one transaction; a closed shard keeps its records
(readable to its end) until retention removes them, and each child names at most two parents, as
in AWS. UpdateShardCount is composed of the same splits and merges AWS performs for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.kinesis import names
from eventyard.services.kinesis.streams import Stream
from eventyard.storage import Connection, Row


@dataclass(frozen=True)
class Shard:
    id: int
    stream_id: int
    index: int
    parent_index: int | None
    adjacent_parent_index: int | None
    starting_hash: int
    ending_hash: int
    next_position: int
    created_at: float
    closed_at: float | None

    @classmethod
    def from_row(cls, row: Row) -> Shard:
        return cls(row["id"], row["stream_id"], row["shard_index"], row["parent_index"],
                   row["adjacent_parent_index"], int(row["starting_hash"]), int(row["ending_hash"]),
                   row["next_position"], row["created_at"], row["closed_at"])

    @property
    def shard_id(self) -> str:
        return names.shard_id(self.index)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def hash_range(self) -> dict[str, str]:
        return {"StartingHashKey": str(self.starting_hash), "EndingHashKey": str(self.ending_hash)}

    def view(self) -> dict[str, Any]:
        sequence_range = {"StartingSequenceNumber": names.gap_number(self.stream_id, self.index, 0)}
        if not self.is_open:
            last = max(self.next_position - 1, 0)
            sequence_range["EndingSequenceNumber"] = names.sequence_number(self.stream_id, self.index, last)
        view: dict[str, Any] = {"ShardId": self.shard_id, "HashKeyRange": self.hash_range(),
                                "SequenceNumberRange": sequence_range}
        if self.parent_index is not None:
            view["ParentShardId"] = names.shard_id(self.parent_index)
        if self.adjacent_parent_index is not None:
            view["AdjacentParentShardId"] = names.shard_id(self.adjacent_parent_index)
        return view


def all_shards(conn: Connection, stream: Stream) -> list[Shard]:
    rows = conn.execute("SELECT * FROM kinesis_shards WHERE stream_id = ? ORDER BY shard_index", (stream.id,))
    return [Shard.from_row(row) for row in rows]


def open_shards(conn: Connection, stream: Stream) -> list[Shard]:
    """Open shards ordered by hash range: they partition the whole 128-bit key space."""
    rows = conn.execute("SELECT * FROM kinesis_shards WHERE stream_id = ? AND closed_at IS NULL", (stream.id,))
    return sorted((Shard.from_row(row) for row in rows), key=lambda s: s.starting_hash)


def get(conn: Connection, stream: Stream, shard_id: str) -> Shard:
    index = names.shard_index(shard_id)
    row = None if index is None else conn.execute(
        "SELECT * FROM kinesis_shards WHERE stream_id = ? AND shard_index = ?", (stream.id, index)).fetchone()
    if row is None:
        raise AwsError("ResourceNotFoundException", f"Could not find shard {shard_id} in stream {stream.name} "
                       f"under account {stream.account_id}.")
    return Shard.from_row(row)


def children(conn: Connection, shard: Shard) -> list[Shard]:
    rows = conn.execute("SELECT * FROM kinesis_shards WHERE stream_id = ? AND (parent_index = ? OR "
                        "adjacent_parent_index = ?) ORDER BY shard_index", (shard.stream_id, shard.index, shard.index))
    return [Shard.from_row(row) for row in rows]


def child_views(conn: Connection, shard: Shard) -> list[dict[str, Any]]:
    """GetRecords' and SubscribeToShard's ChildShards: what to read once a closed shard is done."""
    views = []
    for child in children(conn, shard):
        parents = [names.shard_id(i) for i in (child.parent_index, child.adjacent_parent_index) if i is not None]
        views.append({"ShardId": child.shard_id, "ParentShards": parents, "HashKeyRange": child.hash_range()})
    return views


def visible(shards: list[Shard], stream: Stream, now: float) -> list[Shard]:
    """Closed shards disappear from listings once their records are past retention."""
    horizon = stream.trim_horizon(now)
    return [s for s in shards if s.closed_at is None or s.closed_at >= horizon]


def apply_filter(shards: list[Shard], stream: Stream, shard_filter: dict[str, Any] | None,
                 now: float) -> list[Shard]:
    """ListShards' ShardFilter: which shards were open at, or since, a point of the stream's history."""
    if not shard_filter:
        return shards
    kind = shard_filter["Type"]
    if kind == "AFTER_SHARD_ID":
        if "ShardId" not in shard_filter:
            raise AwsError("InvalidArgumentException", "ShardId is required for the AFTER_SHARD_ID shard filter.")
        after = names.shard_index(shard_filter["ShardId"])
        return [s for s in shards if after is None or s.index > after]
    if kind == "AT_LATEST":
        return [s for s in shards if s.is_open]
    if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
        if "Timestamp" not in shard_filter:
            raise AwsError("InvalidArgumentException", f"Timestamp is required for the {kind} shard filter.")
        moment = max(float(shard_filter["Timestamp"]), stream.created_at)
    elif kind in ("AT_TRIM_HORIZON", "FROM_TRIM_HORIZON"):
        moment = max(stream.trim_horizon(now), stream.created_at)
    else:
        raise AwsError("InvalidArgumentException", f"Unsupported ShardFilter type {kind}.")
    if kind.startswith("AT_"):
        return [s for s in shards if s.created_at <= moment and (s.closed_at is None or s.closed_at > moment)]
    return [s for s in shards if s.closed_at is None or s.closed_at >= moment]


# -- resharding ----------------------------------------------------------------------------------
def _not_eligible(stream: Stream, shard: Shard) -> AwsError:
    return AwsError("ResourceInUseException", f"Shard {shard.shard_id} in stream {stream.name} under account "
                    f"{stream.account_id} has already been merged or split, and thus is not eligible for merging "
                    "or splitting.")


def _new_shard(conn: Connection, stream: Stream, low: int, high: int, parent: int,
               adjacent: int | None, now: float) -> int:
    index = conn.execute("UPDATE kinesis_streams SET next_shard_index = next_shard_index + 1 WHERE id = ?"
                         " RETURNING next_shard_index - 1", (stream.id,)).fetchone()[0]
    conn.execute("INSERT INTO kinesis_shards (stream_id, shard_index, parent_index, adjacent_parent_index,"
                 " starting_hash, ending_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (stream.id, index, parent, adjacent, str(low), str(high), now))
    return int(index)


def _close(conn: Connection, shard: Shard, now: float) -> None:
    conn.execute("UPDATE kinesis_shards SET closed_at = ? WHERE id = ?", (now, shard.id))


def split(conn: Connection, stream: Stream, shard: Shard, new_starting_hash: int,
          now: float) -> tuple[int, int]:
    if not shard.is_open:
        raise _not_eligible(stream, shard)
    if not shard.starting_hash < new_starting_hash <= shard.ending_hash:
        raise AwsError("InvalidArgumentException", f"NewStartingHashKey {new_starting_hash} used in SplitShard() on "
                       f"shard {shard.shard_id} in stream {stream.name} under account {stream.account_id} is not "
                       f"both greater than one plus the shard's StartingHashKey {shard.starting_hash} and less "
                       f"than the shard's EndingHashKey {shard.ending_hash}.")
    _close(conn, shard, now)
    left = _new_shard(conn, stream, shard.starting_hash, new_starting_hash - 1, shard.index, None, now)
    right = _new_shard(conn, stream, new_starting_hash, shard.ending_hash, shard.index, None, now)
    return left, right


def merge(conn: Connection, stream: Stream, shard: Shard, adjacent: Shard, now: float) -> int:
    for each in (shard, adjacent):
        if not each.is_open:
            raise _not_eligible(stream, each)
    if shard.ending_hash + 1 != adjacent.starting_hash and adjacent.ending_hash + 1 != shard.starting_hash:
        raise AwsError("InvalidArgumentException", f"Shards {shard.shard_id} and {adjacent.shard_id} in stream "
                       f"{stream.name} under account {stream.account_id} are not an adjacent pair of shards "
                       "eligible for merging")
    _close(conn, shard, now)
    _close(conn, adjacent, now)
    low, high = min(shard.starting_hash, adjacent.starting_hash), max(shard.ending_hash, adjacent.ending_hash)
    return _new_shard(conn, stream, low, high, shard.index, adjacent.index, now)


def _reload(conn: Connection, stream: Stream, index: int) -> Shard:
    row = conn.execute("SELECT * FROM kinesis_shards WHERE stream_id = ? AND shard_index = ?",
                       (stream.id, index)).fetchone()
    return Shard.from_row(row)


def scale_uniformly(conn: Connection, stream: Stream, target: int, now: float) -> int:
    """UNIFORM_SCALING: split open shards at every boundary of `target` equal ranges, then merge the
    pieces of each range, so every new shard descends from at most two parents. Returns the old count."""
    current = open_shards(conn, stream)
    targets = names.even_ranges(target)
    boundaries = [low for low, _ in targets[1:]]
    pieces: list[Shard] = []
    for shard in current:
        for boundary in (b for b in boundaries if shard.starting_hash < b <= shard.ending_hash):
            left, right = split(conn, stream, shard, boundary, now)
            pieces.append(_reload(conn, stream, left))
            shard = _reload(conn, stream, right)
        pieces.append(shard)
    for low, high in targets:
        group = sorted((p for p in pieces if low <= p.starting_hash <= high), key=lambda p: p.starting_hash)
        merged = group[0]
        for nxt in group[1:]:
            merged = _reload(conn, stream, merge(conn, stream, merged, nxt, now))
    return len(current)

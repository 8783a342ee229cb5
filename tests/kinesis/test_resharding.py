"""SplitShard, MergeShards and UpdateShardCount: lineage, closed shards read to their end, no loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.kinesis.conftest import wait_for_status

HALF = 2**127


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def read_lineage(client: Any, name: str) -> dict[str, list[dict[str, Any]]]:
    """Read every shard from TRIM_HORIZON to its end (closed) or to the tip (open)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for shard in client.list_shards(StreamName=name)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records: list[dict[str, Any]] = []
        while iterator:
            page = client.get_records(ShardIterator=iterator)
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
            if not page["Records"] and page["MillisBehindLatest"] == 0 and iterator is not None:
                break
        out[shard["ShardId"]] = records
    return out


def test_split_shard_closes_the_parent_and_its_children_take_its_keys(
        kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    before = [kinesis.put_record(StreamName=name, Data=f"b{i}".encode(), PartitionKey=f"k{i}")["SequenceNumber"]
              for i in range(6)]
    kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HALF))
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "UPDATING"
    wait_for_status(kinesis, name)
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName=name)["Shards"]}
    parent = shards["shardId-000000000000"]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert shards["shardId-000000000001"]["ParentShardId"] == "shardId-000000000000"
    assert shards["shardId-000000000001"]["HashKeyRange"]["EndingHashKey"] == str(HALF - 1)
    assert shards["shardId-000000000002"]["HashKeyRange"]["StartingHashKey"] == str(HALF)
    after = kinesis.put_record(StreamName=name, Data=b"a", PartitionKey="k", ExplicitHashKey=str(HALF))
    assert after["ShardId"] == "shardId-000000000002"
    assert int(after["SequenceNumber"]) > max(int(s) for s in before)

    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    page = kinesis.get_records(ShardIterator=iterator)
    assert [r["SequenceNumber"] for r in page["Records"]] == before
    assert "NextShardIterator" not in page  # a closed shard read to its end
    assert {c["ShardId"] for c in page["ChildShards"]} == {"shardId-000000000001", "shardId-000000000002"}
    assert all(c["ParentShards"] == ["shardId-000000000000"] for c in page["ChildShards"])
    assert kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"][0]["ShardId"] == \
        "shardId-000000000001"


def test_split_and_merge_reject_ineligible_shards(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(3)
    with pytest.raises(ClientError) as excinfo:
        kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey="0")
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.merge_shards(StreamName=name, ShardToMerge="shardId-000000000000",
                             AdjacentShardToMerge="shardId-000000000002")
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000007", NewStartingHashKey="5")
    assert error_code(excinfo) == "ResourceNotFoundException"
    kinesis.merge_shards(StreamName=name, ShardToMerge="shardId-000000000000",
                         AdjacentShardToMerge="shardId-000000000001")
    with pytest.raises(ClientError) as excinfo:  # the stream is UPDATING
        kinesis.merge_shards(StreamName=name, ShardToMerge="shardId-000000000002",
                             AdjacentShardToMerge="shardId-000000000003")
    assert error_code(excinfo) == "ResourceInUseException"
    wait_for_status(kinesis, name)
    with pytest.raises(ClientError) as excinfo:
        kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey="5")
    assert error_code(excinfo) == "ResourceInUseException"


def test_merge_shards_names_both_parents(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(2)
    kinesis.put_record(StreamName=name, Data=b"left", PartitionKey="k", ExplicitHashKey="1")
    kinesis.put_record(StreamName=name, Data=b"right", PartitionKey="k", ExplicitHashKey=str(2**128 - 1))
    kinesis.merge_shards(StreamName=name, ShardToMerge="shardId-000000000000",
                         AdjacentShardToMerge="shardId-000000000001")
    wait_for_status(kinesis, name)
    child = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(child) == 1 and child[0]["ShardId"] == "shardId-000000000002"
    assert child[0]["ParentShardId"] == "shardId-000000000000"
    assert child[0]["AdjacentParentShardId"] == "shardId-000000000001"
    assert child[0]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}
    kinesis.put_record(StreamName=name, Data=b"merged", PartitionKey="k")
    lineage = read_lineage(kinesis, name)
    assert [r["Data"] for r in lineage["shardId-000000000002"]] == [b"merged"]


def test_update_shard_count_reshards_uniformly_without_losing_or_reordering(
        kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(2)
    keys = [f"key-{n}" for n in range(12)]
    written: dict[str, list[bytes]] = {k: [] for k in keys}

    def write(round_: int) -> None:
        batch = [{"Data": f"{k}:{round_}".encode(), "PartitionKey": k} for k in keys]
        kinesis.put_records(StreamName=name, Records=batch)
        for k in keys:
            written[k].append(f"{k}:{round_}".encode())

    write(0)
    result = kinesis.update_shard_count(StreamName=name, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    assert (result["CurrentShardCount"], result["TargetShardCount"]) == (2, 3)
    write(1)
    wait_for_status(kinesis, name)
    kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    write(2)
    wait_for_status(kinesis, name)
    open_shards = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(open_shards) == 2
    assert open_shards[0]["HashKeyRange"]["StartingHashKey"] == "0"
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert all("ParentShardId" in s for s in shards if int(s["ShardId"][-4:]) >= 2)

    lineage = read_lineage(kinesis, name)
    by_id = {s["ShardId"]: s for s in shards}

    def ancestors(shard_id: str) -> list[str]:
        shard = by_id[shard_id]
        parents = [shard[k] for k in ("ParentShardId", "AdjacentParentShardId") if k in shard]
        return parents + [a for p in parents for a in ancestors(p)]

    # Per key: data read parents-first along the lineage equals what was written, in order.
    for key in keys:
        shard_ids = sorted(lineage, key=lambda s: len(ancestors(s)))
        seen = [r for s in shard_ids for r in lineage[s] if r["PartitionKey"] == key]
        seen.sort(key=lambda r: int(r["SequenceNumber"]))
        assert [r["Data"] for r in seen] == written[key]


def test_update_shard_count_limits(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(2)
    with pytest.raises(ClientError) as excinfo:
        kinesis.update_shard_count(StreamName=name, TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    assert error_code(excinfo) == "LimitExceededException"
    on_demand = make_stream(StreamModeDetails={"StreamMode": "ON_DEMAND"})
    with pytest.raises(ClientError) as excinfo:
        kinesis.update_shard_count(StreamName=on_demand, TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    assert error_code(excinfo) == "ValidationException"

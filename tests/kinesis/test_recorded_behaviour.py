"""Kinesis behaviour recorded against AWS (LocalStack's AWS-validated suite): on-demand by default, quoted
iterators, continuation sequence numbers that sit between records, policy deletion, paged listings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.kinesis.conftest import wait_for_status
from tests.kinesis.test_fan_out import active_consumer, stream_arn


def test_a_stream_without_shard_count_or_mode_is_on_demand_with_four_shards(kinesis: Any, unique: str) -> None:
    kinesis.create_stream(StreamName=f"od-{unique}")
    summary = wait_for_status(kinesis, f"od-{unique}")
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert len(kinesis.list_shards(StreamName=f"od-{unique}")["Shards"]) == 4
    with pytest.raises(ClientError) as raised:  # an explicit PROVISIONED mode still needs the count
        kinesis.create_stream(StreamName=f"pr-{unique}", StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_an_iterator_in_double_quotes_reads_as_the_iterator(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    kinesis.put_record(StreamName=name, Data=b"quoted", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=f'"{iterator}"')["Records"]] == [b"quoted"]


def _read_from(kinesis: Any, name: str, kind: str, sequence: str) -> list[bytes]:
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000", ShardIteratorType=kind,
                                          StartingSequenceNumber=sequence)["ShardIterator"]
    return [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]


def test_the_continuation_number_sits_between_records(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    sent = [kinesis.put_record(StreamName=name, Data=f"r{i}".encode(), PartitionKey="k")["SequenceNumber"]
            for i in range(3)]
    consumer = active_consumer(kinesis, stream_arn(kinesis, name), "between")
    response = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                          StartingPosition={"Type": "TRIM_HORIZON"})
    event = next(e["SubscribeToShardEvent"] for e in response["EventStream"] if e["SubscribeToShardEvent"]["Records"])
    response["EventStream"].close()
    continuation = event["ContinuationSequenceNumber"]
    assert [r["SequenceNumber"] for r in event["Records"]] == sent and continuation not in sent
    assert int(continuation) > int(sent[-1])
    kinesis.put_record(StreamName=name, Data=b"next", PartitionKey="k")
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):  # both resume at the next record
        assert _read_from(kinesis, name, kind, continuation) == [b"next"]


def test_a_shards_starting_sequence_number_is_before_its_first_record(kinesis: Any,
                                                                      make_stream: Callable[..., str]) -> None:
    name = make_stream()
    first = kinesis.put_record(StreamName=name, Data=b"first", PartitionKey="k")["SequenceNumber"]
    start = kinesis.list_shards(StreamName=name)["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
    assert int(start) < int(first)
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        assert _read_from(kinesis, name, kind, start) == [b"first"]
    assert _read_from(kinesis, name, "AT_SEQUENCE_NUMBER", first) == [b"first"]
    assert _read_from(kinesis, name, "AFTER_SEQUENCE_NUMBER", first) == []


def test_deleting_a_resource_policy_that_is_not_there_fails(kinesis: Any, make_stream: Callable[..., str]) -> None:
    arn = stream_arn(kinesis, make_stream())
    with pytest.raises(ClientError) as raised:
        kinesis.delete_resource_policy(ResourceARN=arn)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_list_streams_and_consumers_page(kinesis: Any, make_stream: Callable[..., str], unique: str) -> None:
    names = sorted(make_stream() for _ in range(3))
    first = kinesis.list_streams(ExclusiveStartStreamName=f"stream-{unique}", Limit=2)
    assert first["StreamNames"] == names[:2] and first["HasMoreStreams"]
    rest = kinesis.list_streams(NextToken=first["NextToken"], Limit=5)
    assert rest["StreamNames"][:1] == names[2:]
    arn = stream_arn(kinesis, names[0])
    for i in range(3):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{i}")
    page = kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2)
    following = kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2, NextToken=page["NextToken"])
    assert [c["ConsumerName"] for c in page["Consumers"] + following["Consumers"]] == ["c0", "c1", "c2"]
    assert "NextToken" not in following

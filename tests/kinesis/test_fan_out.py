"""Enhanced fan-out: consumer registration and SubscribeToShard over the event-stream encoding."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError

from eventyard.services.kinesis import eventstream
from tests.kinesis.conftest import wait_for_status


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def stream_arn(client: Any, name: str) -> str:
    return str(client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"])


def active_consumer(client: Any, arn: str, consumer: str) -> str:
    consumer_arn = client.register_stream_consumer(StreamARN=arn, ConsumerName=consumer)["Consumer"]["ConsumerARN"]
    deadline = time.monotonic() + 5
    while client.describe_stream_consumer(ConsumerARN=consumer_arn)["ConsumerDescription"]["ConsumerStatus"] != \
            "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return str(consumer_arn)


def test_our_event_stream_frames_decode_with_botocores_decoder() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(eventstream.event("initial-response", {}) + eventstream.event("SubscribeToShardEvent", {"a": 1}))
    first, second = list(buffer)
    assert first.headers[":event-type"] == "initial-response" and first.payload == b"{}"
    assert second.headers == {":message-type": "event", ":event-type": "SubscribeToShardEvent",
                              ":content-type": "application/json"}
    assert second.payload == b'{"a":1}'
    assert first.prelude.crc == first.prelude.crc  # CRCs were checked by the decoder while parsing


def test_consumers_are_registered_described_listed_and_deregistered(
        kinesis: Any, make_stream: Callable[..., str]) -> None:
    arn = stream_arn(kinesis, make_stream())
    registered = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
    assert registered["ConsumerStatus"] == "CREATING"
    assert registered["ConsumerARN"].startswith(f"{arn}/consumer/app:")
    with pytest.raises(ClientError) as excinfo:
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app")
    assert error_code(excinfo) == "ResourceInUseException"
    active_consumer(kinesis, arn, "other")
    by_name = kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="app")["ConsumerDescription"]
    assert by_name["ConsumerARN"] == registered["ConsumerARN"] and by_name["StreamARN"] == arn
    page = kinesis.list_stream_consumers(StreamARN=arn, MaxResults=1)
    assert [c["ConsumerName"] for c in page["Consumers"]] == ["app"]
    rest = kinesis.list_stream_consumers(StreamARN=arn, NextToken=page["NextToken"])
    assert [c["ConsumerName"] for c in rest["Consumers"]] == ["other"]
    kinesis.tag_resource(ResourceARN=registered["ConsumerARN"], Tags={"team": "x"})
    assert kinesis.list_tags_for_resource(ResourceARN=registered["ConsumerARN"])["Tags"] == [
        {"Key": "team", "Value": "x"}]
    kinesis.deregister_stream_consumer(ConsumerARN=registered["ConsumerARN"])
    deadline = time.monotonic() + 5
    while True:
        try:
            kinesis.describe_stream_consumer(ConsumerARN=registered["ConsumerARN"])
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_subscribe_to_shard_pushes_records_as_they_are_put(kinesis: Any, kinesis_server: Any,
                                                          make_stream: Callable[..., str]) -> None:
    name = make_stream()
    arn = stream_arn(kinesis, name)
    first = kinesis.put_record(StreamName=name, Data=b"before", PartitionKey="k")["SequenceNumber"]
    consumer = active_consumer(kinesis, arn, "push")
    response = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                          StartingPosition={"Type": "TRIM_HORIZON"})
    writer = kinesis_server.client("kinesis")
    received: list[bytes] = []
    continuation = None
    for event in response["EventStream"]:
        payload = event["SubscribeToShardEvent"]
        received.extend(r["Data"] for r in payload["Records"])
        continuation = payload["ContinuationSequenceNumber"]
        if received == [b"before"]:
            threading.Thread(target=lambda: writer.put_records(StreamName=name, Records=[
                {"Data": b"live-1", "PartitionKey": "k"}, {"Data": b"live-2", "PartitionKey": "k"}])).start()
        if len(received) >= 3:
            break
    response["EventStream"].close()
    assert received == [b"before", b"live-1", b"live-2"]
    assert int(continuation) > int(first)

    again = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                       StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": first})
    event = next(iter(again["EventStream"]))
    assert [r["Data"] for r in event["SubscribeToShardEvent"]["Records"]] == [b"live-1", b"live-2"]
    again["EventStream"].close()


def test_subscription_to_a_closed_shard_ends_with_its_children(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    kinesis.put_record(StreamName=name, Data=b"only", PartitionKey="k")
    kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    wait_for_status(kinesis, name)
    consumer = active_consumer(kinesis, stream_arn(kinesis, name), "closed")
    response = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                          StartingPosition={"Type": "TRIM_HORIZON"})
    events = [e["SubscribeToShardEvent"] for e in response["EventStream"]]
    assert [r["Data"] for e in events for r in e["Records"]] == [b"only"]
    assert "ContinuationSequenceNumber" not in events[-1]
    assert {c["ShardId"] for c in events[-1]["ChildShards"]} == {"shardId-000000000001", "shardId-000000000002"}


def test_subscribing_needs_an_active_consumer(kinesis: Any, make_stream: Callable[..., str]) -> None:
    arn = stream_arn(kinesis, make_stream())
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="new")["Consumer"]["ConsumerARN"]
    with pytest.raises(ClientError) as excinfo:
        kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                   StartingPosition={"Type": "LATEST"})
    assert error_code(excinfo) == "ResourceInUseException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.subscribe_to_shard(ConsumerARN=f"{arn}/consumer/ghost:1", ShardId="shardId-000000000000",
                                   StartingPosition={"Type": "LATEST"})
    assert error_code(excinfo) == "ResourceNotFoundException"

"""Writes and reads: hashing into shards, sequence numbers, limits, every iterator type, expiry."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.kinesis.conftest import read_all, wait_for_status


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def shard_for(shards: list[dict[str, Any]], key: int) -> str:
    for shard in shards:
        low, high = int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"])
        if low <= key <= high:
            return str(shard["ShardId"])
    raise AssertionError(key)


def test_partition_keys_are_hashed_with_md5_into_shard_ranges(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(4)
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    for n in range(20):
        key = f"user-{n}"
        result = kinesis.put_record(StreamName=name, Data=b"d", PartitionKey=key)
        assert result["ShardId"] == shard_for(shards, int(hashlib.md5(key.encode()).hexdigest(), 16))


def test_an_explicit_hash_key_overrides_the_partition_key(kinesis: Any, raw_kinesis: Any,
                                                          make_stream: Callable[..., str]) -> None:
    name = make_stream(2)
    assert kinesis.put_record(StreamName=name, Data=b"d", PartitionKey="a", ExplicitHashKey="0")["ShardId"] == \
        "shardId-000000000000"
    assert kinesis.put_record(StreamName=name, Data=b"d", PartitionKey="a",
                              ExplicitHashKey=str(2**128 - 1))["ShardId"] == "shardId-000000000001"
    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.put_record(StreamName=name, Data=b"d", PartitionKey="a", ExplicitHashKey=str(2**128))
    assert error_code(excinfo) == "InvalidArgumentException"


def test_sequence_numbers_are_long_decimal_strings_increasing_per_shard(
        kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    first = kinesis.put_record(StreamName=name, Data=b"1", PartitionKey="k")["SequenceNumber"]
    second = kinesis.put_record(StreamName=name, Data=b"2", PartitionKey="k",
                                SequenceNumberForOrdering=first)["SequenceNumber"]
    assert len(first) == 56 and first.isdigit()
    assert int(second) > int(first)


def test_put_records_answers_one_result_per_record_in_order(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(2)
    entries = [{"Data": f"r{i}".encode(), "PartitionKey": f"p{i}"} for i in range(50)]
    result = kinesis.put_records(StreamName=name, Records=entries)
    assert result["FailedRecordCount"] == 0 and len(result["Records"]) == 50
    by_shard: dict[str, list[int]] = {}
    for entry in result["Records"]:
        by_shard.setdefault(entry["ShardId"], []).append(int(entry["SequenceNumber"]))
    assert all(seqs == sorted(seqs) for seqs in by_shard.values())
    read = [r for shard in ("shardId-000000000000", "shardId-000000000001") for r in read_all(kinesis, name, shard)]
    assert sorted(r["Data"] for r in read) == sorted(e["Data"] for e in entries)


def test_size_and_count_limits_are_enforced_with_aws_errors(raw_kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.put_record(StreamName=name, Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
    assert error_code(excinfo) == "ValidationException"
    assert "Member must have length less than or equal to 1048576" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": "k"}] * 501)
    assert error_code(excinfo) == "ValidationException"
    assert "at 'records' failed to satisfy constraint" in excinfo.value.response["Error"]["Message"]
    big = {"Data": b"x" * (1024 * 1024 - 10), "PartitionKey": "k"}
    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.put_records(StreamName=name, Records=[big] * 6)
    assert error_code(excinfo) == "InvalidArgumentException"
    assert excinfo.value.response["Error"]["Message"] == "Records size exceeds 5 MB limit"
    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="")
    assert error_code(excinfo) == "ValidationException"


def test_every_iterator_type_starts_where_aws_says(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    shard = "shardId-000000000000"
    seqs = [kinesis.put_record(StreamName=name, Data=f"{i}".encode(), PartitionKey="k")["SequenceNumber"]
            for i in range(5)]

    def first_data(**kwargs: Any) -> list[bytes]:
        iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, **kwargs)["ShardIterator"]
        return [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]

    assert first_data(ShardIteratorType="TRIM_HORIZON") == [b"0", b"1", b"2", b"3", b"4"]
    assert first_data(ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]) == [b"2", b"3", b"4"]
    assert first_data(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]) == [b"3", b"4"]
    assert first_data(ShardIteratorType="LATEST") == []
    records = kinesis.get_records(ShardIterator=kinesis.get_shard_iterator(
        StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"]
    arrival = records[3]["ApproximateArrivalTimestamp"]
    assert b"3" in first_data(ShardIteratorType="AT_TIMESTAMP", Timestamp=arrival)
    assert first_data(ShardIteratorType="AT_TIMESTAMP", Timestamp=arrival.timestamp() + 3600) == []

    latest = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    kinesis.put_record(StreamName=name, Data=b"after", PartitionKey="k")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest)["Records"]] == [b"after"]


def test_iterator_arguments_are_checked(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(2)
    other = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey="0")["SequenceNumber"]
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000001",
                                   ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=other)
    assert error_code(excinfo) == "InvalidArgumentException"
    assert "It encodes shardId-000000000000" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000001",
                                   ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000009", ShardIteratorType="LATEST")
    assert error_code(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator="not-an-iterator-at-all")
    assert error_code(excinfo) == "InvalidArgumentException"


def test_get_records_honours_limit_and_reports_millis_behind_latest(
        kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    kinesis.put_records(StreamName=name, Records=[{"Data": f"{i}".encode(), "PartitionKey": "k"} for i in range(7)])
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    seen: list[bytes] = []
    pages = 0
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=3)
        pages += 1
        seen.extend(r["Data"] for r in page["Records"])
        assert len(page["Records"]) <= 3
        iterator = page["NextShardIterator"]
        if not page["Records"]:
            assert page["MillisBehindLatest"] == 0
            break
    assert seen == [f"{i}".encode() for i in range(7)] and pages == 4


def test_writers_in_parallel_keep_each_shards_order(kinesis_server: ServerProcess,
                                                    make_stream: Callable[..., str]) -> None:
    name = make_stream(2)
    writers, per_writer = 6, 40
    acknowledged: dict[str, list[str]] = {}

    def write(writer: int) -> None:
        client = kinesis_server.client("kinesis")
        key = f"writer-{writer}"
        acknowledged[key] = []
        for n in range(0, per_writer, 4):
            batch = [{"Data": f"{writer}:{n + i}".encode(), "PartitionKey": key} for i in range(4)]
            result = client.put_records(StreamName=name, Records=batch)
            acknowledged[key].extend(r["SequenceNumber"] for r in result["Records"])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client = kinesis_server.client("kinesis")
    records = [r for s in ("shardId-000000000000", "shardId-000000000001") for r in read_all(client, name, s)]
    assert len(records) == writers * per_writer
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        seqs = [int(r["SequenceNumber"]) for r in read_all(client, name, shard)]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for writer in range(writers):
        mine = [r for r in records if r["PartitionKey"] == f"writer-{writer}"]
        assert [r["Data"] for r in mine] == [f"{writer}:{n}".encode() for n in range(per_writer)]
        assert [r["SequenceNumber"] for r in mine] == acknowledged[f"writer-{writer}"]


def test_iterators_expire_after_five_minutes(fresh_kinesis_server: ServerProcess, unique: str) -> None:
    client = fresh_kinesis_server.client("kinesis")
    client.create_stream(StreamName=unique, ShardCount=1)
    wait_for_status(client, unique)
    iterator = client.get_shard_iterator(StreamName=unique, ShardId="shardId-000000000000",
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    fresh_kinesis_server.advance_clock(299)
    next_iterator = client.get_records(ShardIterator=iterator)["NextShardIterator"]
    fresh_kinesis_server.advance_clock(2)
    with pytest.raises(ClientError) as excinfo:
        client.get_records(ShardIterator=iterator)
    assert error_code(excinfo) == "ExpiredIteratorException"
    assert "which is further in the future than the tolerated delay of 300000 milliseconds" in \
        excinfo.value.response["Error"]["Message"]
    assert client.get_records(ShardIterator=next_iterator)["Records"] == []  # renewed by the last read


def test_records_expire_after_the_retention_period(fresh_kinesis_server: ServerProcess, unique: str) -> None:
    client = fresh_kinesis_server.client("kinesis")
    client.create_stream(StreamName=unique, ShardCount=1)
    wait_for_status(client, unique)
    client.put_record(StreamName=unique, Data=b"old", PartitionKey="k")
    fresh_kinesis_server.advance_clock(23 * 3600)
    client.put_record(StreamName=unique, Data=b"new", PartitionKey="k")
    assert [r["Data"] for r in read_all(client, unique, "shardId-000000000000")] == [b"old", b"new"]
    fresh_kinesis_server.advance_clock(3600 + 1)
    assert [r["Data"] for r in read_all(client, unique, "shardId-000000000000")] == [b"new"]
    client.increase_stream_retention_period(StreamName=unique, RetentionPeriodHours=48)
    fresh_kinesis_server.advance_clock(24 * 3600)
    assert [r["Data"] for r in read_all(client, unique, "shardId-000000000000")] == [b"new"]


def server_now(server: ServerProcess) -> float:
    with urllib.request.urlopen(f"{server.url}/_eventyard/clock") as response:
        return float(json.load(response)["now"])


def test_enforced_shard_limits_fail_records_one_by_one(tmp_path: Any, unique: str) -> None:
    server = ServerProcess(tmp_path / "data", env={"EVENTYARD_KINESIS_TRANSITION_SECONDS": "0.05",
                                                   "EVENTYARD_KINESIS_ENFORCE_THROUGHPUT": "1"}).start()
    batch = [{"Data": b"x" * 4000, "PartitionKey": f"k{i}"} for i in range(500)]  # ~2 MB for a 1 MiB/s shard
    admitted, total = 0, 0
    for entry in batch:  # data plus partition key, within 1 MiB per shard per second
        total += len(entry["Data"]) + len(entry["PartitionKey"])
        if total > 1024 * 1024:
            break
        admitted += 1
    try:
        client = server.client("kinesis")
        # The window is one second of the server's clock: retry if a slow machine let it roll over.
        for attempt in range(5):
            name = f"{unique}-{attempt}"
            client.create_stream(StreamName=name, ShardCount=1)
            wait_for_status(client, name)
            now = server_now(server)
            server.advance_clock(math.ceil(now) - now + 0.001)  # start of a second: both writes share it
            started = int(server_now(server))
            result = client.put_records(StreamName=name, Records=batch)
            try:
                client.put_record(StreamName=name, Data=b"x" * 4000, PartitionKey="k")
                single_error = None
            except ClientError as error:
                single_error = error.response["Error"]["Code"]
            if int(server_now(server)) == started:
                break
        else:
            pytest.fail("the machine never kept two calls within one second")
        failed = [r for r in result["Records"] if "ErrorCode" in r]
        assert result["FailedRecordCount"] == len(failed) == 500 - admitted
        assert all("SequenceNumber" in r for r in result["Records"][:admitted])
        assert failed[0]["ErrorCode"] == "ProvisionedThroughputExceededException"
        assert failed[0]["ErrorMessage"] == (f"Rate exceeded for shard shardId-000000000000 in stream {name} "
                                             "under account 000000000000.")
        assert single_error == "ProvisionedThroughputExceededException"
        server.advance_clock(1)
        assert client.put_record(StreamName=name, Data=b"x", PartitionKey="k")["ShardId"] == "shardId-000000000000"
        assert len(read_all(client, name, "shardId-000000000000")) == admitted + 1
    finally:
        server.stop()

"""Acknowledged means committed: SIGKILL during PutRecords loses no acknowledged record."""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import ServerProcess
from tests.kinesis.conftest import read_all, wait_for_status


def test_sigkill_during_put_records_loses_nothing_acknowledged(fresh_kinesis_server: ServerProcess,
                                                              unique: str) -> None:
    server = fresh_kinesis_server
    client = server.client("kinesis")
    client.create_stream(StreamName=unique, ShardCount=2)
    wait_for_status(client, unique)
    acknowledged: list[tuple[str, str, bytes]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def write(writer: int) -> None:
        own = server.client("kinesis")
        n = 0
        while not stop.is_set():
            batch = [{"Data": f"{writer}-{n + i}".encode(), "PartitionKey": f"w{writer}-{i % 3}"} for i in range(20)]
            try:
                result = own.put_records(StreamName=unique, Records=batch)
            except (BotoCoreError, ClientError):
                return  # the server died under us: this batch was never acknowledged
            with lock:
                acknowledged.extend((r["ShardId"], r["SequenceNumber"], e["Data"])
                                    for r, e in zip(result["Records"], batch, strict=True))
            n += 20

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60  # generous: the kill must land mid-stream, however slow the machine
    while len(acknowledged) < 400 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= 400
    server.start()
    client = server.client("kinesis")
    assert client.describe_stream_summary(StreamName=unique)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
    stored: dict[tuple[str, str], bytes] = {}
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        for record in read_all(client, unique, shard):
            stored[(shard, record["SequenceNumber"])] = record["Data"]
    missing = [a for a in acknowledged if stored.get((a[0], a[1])) != a[2]]
    assert missing == []
    # Writing goes on after the crash with sequence numbers above every acknowledged one.
    after = client.put_record(StreamName=unique, Data=b"after", PartitionKey="w0-0")
    assert int(after["SequenceNumber"]) > max(int(s) for shard, s, _ in acknowledged if shard == after["ShardId"])


def test_streams_consumers_and_transitions_survive_a_restart(fresh_kinesis_server: ServerProcess,
                                                            unique: str) -> None:
    server = fresh_kinesis_server
    client = server.client("kinesis")
    client.create_stream(StreamName=unique, ShardCount=1)
    wait_for_status(client, unique)
    arn = client.describe_stream_summary(StreamName=unique)["StreamDescriptionSummary"]["StreamARN"]
    client.register_stream_consumer(StreamARN=arn, ConsumerName="kept")
    client.put_record(StreamName=unique, Data=b"kept", PartitionKey="k")
    client.increase_stream_retention_period(StreamName=unique, RetentionPeriodHours=48)
    server.kill()
    server.start()
    client = server.client("kinesis")
    summary = wait_for_status(client, unique)  # the UPDATING transition completes after the crash
    assert summary["RetentionPeriodHours"] == 48 and summary["ConsumerCount"] == 1
    assert [r["Data"] for r in read_all(client, unique, "shardId-000000000000")] == [b"kept"]
    consumer: Any = client.describe_stream_consumer(StreamARN=arn, ConsumerName="kept")["ConsumerDescription"]
    assert consumer["ConsumerStatus"] == "ACTIVE"

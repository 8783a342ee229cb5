"""Kinesis Data Streams' metrics (namespace AWS/Kinesis), recorded in memory per period.

Stream level (StreamName), as AWS publishes them for every stream:
- writes: IncomingRecords, IncomingBytes (records stored), WriteProvisionedThroughputExceeded (records
  refused as over a shard's limit), PutRecord.Bytes/.Latency/.Success, PutRecords.Bytes/.Latency/
  .Success (calls that stored at least one record)/.TotalRecords/.SuccessfulRecords/.FailedRecords/
  .ThrottledRecords;
- reads: GetRecords.Records/.Bytes/.Latency/.Success/.IteratorAgeMilliseconds and
  ReadProvisionedThroughputExceeded (0: reads are not throttled);
- enhanced fan-out, by (ConsumerName, StreamName): SubscribeToShard.Success per subscription, and per
  event pushed SubscribeToShardEvent.Records/.Bytes/.MillisBehindLatest/.Success.

Shard level (ShardId, StreamName), only for the metrics EnableEnhancedMonitoring turned on:
IncomingRecords, IncomingBytes, OutgoingRecords, OutgoingBytes, IteratorAgeMilliseconds and
ReadProvisionedThroughputExceeded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from eventyard.runtime.metric_store import Dimensions
from eventyard.runtime.metrics import MetricsRecorder

NAMESPACE = "AWS/Kinesis"
THROTTLED = "ProvisionedThroughputExceededException"


class _Writer:
    """The recorder, bound to one stream's account, region and a moment."""

    def __init__(self, recorder: MetricsRecorder, stream: Any, now: float | None = None) -> None:
        self.recorder, self.stream = recorder, stream
        self.now = recorder.clock.now() if now is None else now
        self.dims: Dimensions = (("StreamName", stream.name),)

    def count(self, name: str, value: float, unit: str = "Count", dims: Dimensions | None = None) -> None:
        self.recorder.count(NAMESPACE, name, self.dims if dims is None else dims, value, unit,
                            account_id=self.stream.account_id, region=self.stream.region, timestamp=self.now)

    def observe(self, name: str, value: float, unit: str = "Count", dims: Dimensions | None = None) -> None:
        self.recorder.observe(NAMESPACE, name, self.dims if dims is None else dims, value, unit,
                              account_id=self.stream.account_id, region=self.stream.region, timestamp=self.now)

    def shard(self, name: str, shard_id: str, value: float, unit: str = "Count", observe: bool = False) -> None:
        """A shard-level metric, if enhanced monitoring has it on for the stream."""
        if name in self.stream.shard_level_metrics:
            dims = (("ShardId", shard_id), ("StreamName", self.stream.name))
            (self.observe if observe else self.count)(name, value, unit, dims)


def put(recorder: MetricsRecorder, stream: Any, sizes: Sequence[int], results: Sequence[dict[str, Any]],
        batch: bool, latency_ms: float) -> None:
    """A PutRecord (`batch` False) or PutRecords call: the records' sizes and their results, in order."""
    if not recorder.enabled:
        return
    out = _Writer(recorder, stream)
    stored_bytes: Counter[str] = Counter()
    stored_records: Counter[str] = Counter()
    failed = throttled = 0
    for size, result in zip(sizes, results, strict=False):
        if "ErrorCode" in result:
            failed += 1
            throttled += result["ErrorCode"] == THROTTLED
        else:
            stored_bytes[result["ShardId"]] += size
            stored_records[result["ShardId"]] += 1
    stored = len(results) - failed
    out.count("IncomingRecords", float(stored))
    out.count("IncomingBytes", float(sum(stored_bytes.values())), "Bytes")
    out.count("WriteProvisionedThroughputExceeded", float(throttled))
    for shard_id, count in stored_records.items():
        out.shard("IncomingRecords", shard_id, float(count))
        out.shard("IncomingBytes", shard_id, float(stored_bytes[shard_id]), "Bytes")
    operation = "PutRecords" if batch else "PutRecord"
    out.observe(f"{operation}.Bytes", float(sum(sizes)), "Bytes")
    out.observe(f"{operation}.Latency", latency_ms, "Milliseconds")
    out.count(f"{operation}.Success", 1.0 if stored else 0.0)
    if batch:
        for name, value in (("TotalRecords", len(results)), ("SuccessfulRecords", stored), ("FailedRecords", failed),
                            ("ThrottledRecords", throttled)):
            out.count(f"PutRecords.{name}", float(value))


def got(recorder: MetricsRecorder, stream: Any, shard_id: str, records: Sequence[dict[str, Any]], now: float,
        latency_ms: float) -> None:
    """A successful GetRecords call on one shard."""
    if not recorder.enabled:
        return
    out = _Writer(recorder, stream, now)
    size = float(sum(len(r["Data"]) for r in records))
    age = max(0.0, (now - records[-1]["ApproximateArrivalTimestamp"]) * 1000) if records else 0.0
    out.count("GetRecords.Success", 1.0)
    out.observe("GetRecords.Records", float(len(records)))
    out.observe("GetRecords.Bytes", size, "Bytes")
    out.observe("GetRecords.Latency", latency_ms, "Milliseconds")
    out.observe("GetRecords.IteratorAgeMilliseconds", age, "Milliseconds")
    out.count("ReadProvisionedThroughputExceeded", 0.0)
    out.shard("OutgoingRecords", shard_id, float(len(records)))
    out.shard("OutgoingBytes", shard_id, size, "Bytes")
    out.shard("IteratorAgeMilliseconds", shard_id, age, "Milliseconds", observe=True)
    out.shard("ReadProvisionedThroughputExceeded", shard_id, 0.0)


def subscribed(recorder: MetricsRecorder, stream: Any, consumer: str) -> None:
    """A SubscribeToShard call that opened its event stream."""
    if recorder.enabled:
        _Writer(recorder, stream).count("SubscribeToShard.Success", 1.0,
                                        dims=(("ConsumerName", consumer), ("StreamName", stream.name)))


def pushed(recorder: MetricsRecorder, stream: Any, consumer: str, records: Sequence[dict[str, Any]],
           millis_behind_latest: int) -> None:
    """One SubscribeToShardEvent sent to an enhanced fan-out consumer: its records, and how far the
    consumer is behind the shard's tip (the console's per-consumer iterator age)."""
    if not recorder.enabled:
        return
    out = _Writer(recorder, stream)
    dims = (("ConsumerName", consumer), ("StreamName", stream.name))
    out.observe("SubscribeToShardEvent.Records", float(len(records)), dims=dims)
    out.observe("SubscribeToShardEvent.Bytes", float(sum(len(r["Data"]) for r in records)), "Bytes", dims=dims)
    out.observe("SubscribeToShardEvent.MillisBehindLatest", float(millis_behind_latest), "Milliseconds", dims=dims)
    out.count("SubscribeToShardEvent.Success", 1.0, dims=dims)

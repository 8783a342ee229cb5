"""Kinesis Data Streams' stream-level metrics (namespace AWS/Kinesis, dimension StreamName), recorded in
memory per period: IncomingRecords/-Bytes and PutRecord.*/PutRecords.* on writes; GetRecords.*,
OutgoingRecords/-Bytes and GetRecords.IteratorAgeMilliseconds on reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventyard.runtime.metrics import MetricsRecorder

NAMESPACE = "AWS/Kinesis"


def _stream(stream: Any) -> tuple[tuple[tuple[str, str], ...], str, str]:
    return (("StreamName", stream.name),), stream.account_id, stream.region


def put(recorder: MetricsRecorder, stream: Any, sizes: Sequence[int], failed: int, batch: bool) -> None:
    if not recorder.enabled:
        return
    dims, account, region = _stream(stream)
    stored = len(sizes) - failed
    size = float(sum(sizes))
    recorder.count(NAMESPACE, "IncomingRecords", dims, float(stored), account_id=account, region=region)
    recorder.count(NAMESPACE, "IncomingBytes", dims, size, "Bytes", account_id=account, region=region)
    if batch:
        recorder.count(NAMESPACE, "PutRecords.TotalRecords", dims, float(len(sizes)), account_id=account, region=region)
        recorder.count(NAMESPACE, "PutRecords.SuccessfulRecords", dims, float(stored), account_id=account, region=region)
        recorder.count(NAMESPACE, "PutRecords.FailedRecords", dims, float(failed), account_id=account, region=region)
        recorder.observe(NAMESPACE, "PutRecords.Bytes", dims, size, "Bytes", account_id=account, region=region)
        recorder.count(NAMESPACE, "PutRecords.Success", dims, 1.0 if not failed else 0.0, account_id=account, region=region)
    else:
        recorder.observe(NAMESPACE, "PutRecord.Bytes", dims, size, "Bytes", account_id=account, region=region)
        recorder.count(NAMESPACE, "PutRecord.Success", dims, 1.0 if not failed else 0.0, account_id=account, region=region)


def got(recorder: MetricsRecorder, stream: Any, records: Sequence[dict[str, Any]], now: float) -> None:
    if not recorder.enabled:
        return
    dims, account, region = _stream(stream)
    size = float(sum(len(r["Data"]) for r in records))
    recorder.count(NAMESPACE, "GetRecords.Success", dims, 1.0, account_id=account, region=region)
    recorder.observe(NAMESPACE, "GetRecords.Records", dims, float(len(records)), account_id=account, region=region)
    recorder.observe(NAMESPACE, "GetRecords.Bytes", dims, size, "Bytes", account_id=account, region=region)
    recorder.count(NAMESPACE, "OutgoingRecords", dims, float(len(records)), account_id=account, region=region)
    recorder.count(NAMESPACE, "OutgoingBytes", dims, size, "Bytes", account_id=account, region=region)
    age = (now - records[-1]["ApproximateArrivalTimestamp"]) * 1000 if records else 0.0
    recorder.observe(NAMESPACE, "GetRecords.IteratorAgeMilliseconds", dims, max(0.0, age), "Milliseconds",
                     account_id=account, region=region)

"""A traced PutRecord/PutRecords leaves one hop per stored record (`runtime/tracing.py`), known by
stream ARN and sequence number: a record has no header of its own, so a consumer (a Lambda mapping,
a pipe) continues the trace from that hop. Untraced writes cost nothing here."""

from __future__ import annotations

from typing import Any

from eventyard.runtime import tracing
from eventyard.services.kinesis.streams import Stream
from eventyard.storage import Connection


def put(conn: Connection, stream: Stream, results: list[dict[str, Any]], header: str | None, now: float,
        operation: str) -> None:
    incoming = tracing.parse(header)
    if incoming is None:
        return
    tracing.record_many(conn, [
        tracing.Hop(incoming, tracing.new_segment(), now, "kinesis", operation, stream.arn, stream.account_id,
                    stream.region, ref=tracing.record_ref(stream.arn, result["SequenceNumber"]),
                    detail={"shard": result["ShardId"]})
        for result in results if "SequenceNumber" in result])

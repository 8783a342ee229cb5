"""The X-Ray trace of a pipe's batch: it continues the trace its first record carries (an SQS
message's AWSTraceHeader, or the trace of the PutRecord that wrote a Kinesis record), hands it to
the enrichment and the target with the pipe as Parent, and leaves a hop with the batch's outcome.
Batches whose records carry no trace pay nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventyard.runtime import tracing


@dataclass(frozen=True)
class Traced:
    incoming: tracing.TraceHeader
    segment: str

    @property
    def downstream(self) -> str:
        return str(self.incoming.child(self.segment))


async def received(platform: Any, kind: str, source_arn: str, batch: list[dict[str, Any]]) -> Traced | None:
    if not batch:
        return None
    if kind == "sqs":
        header = (batch[0].get("attributes") or {}).get("AWSTraceHeader")
    else:
        ref = tracing.record_ref(source_arn, str(batch[0]["sequenceNumber"]))
        header = await platform.db.read(lambda conn: tracing.header_of_ref(conn, ref))
    incoming = tracing.parse(header)
    return Traced(incoming, tracing.new_segment()) if incoming else None


async def record(platform: Any, pipe: dict[str, Any], traced: Traced, began: float, identifiers: list[str],
                 failed: set[int]) -> None:
    if not failed:
        outcome = "ExecutionSucceeded"
    else:
        outcome = "ExecutionFailed" if len(failed) == len(identifiers) else "ExecutionPartiallyFailed"
    _, _, _, region, account, _ = pipe["Arn"].split(":", 5)
    hop = tracing.Hop(traced.incoming, traced.segment, began, "pipes", "Execution", pipe["Arn"], account, region,
                      latency_ms=round((platform.clock.now() - began) * 1000, 2), outcome=outcome,
                      detail={"records": identifiers[:10]})
    await platform.db.write(lambda conn: tracing.record(conn, hop))

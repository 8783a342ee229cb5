"""The X-Ray trace of an execution: it continues the trace of the request that started it (its
`traceHeader`, or the request's X-Amzn-Trace-Id), and every task's call to another service carries
that Root with the execution as Parent, so a Lambda function an execution invokes stays in the same
trace. An execution started without a trace sends no header on, as AWS's do not; its own hop gets a
Root derived from its ARN (stable across restarts and redrives), so `eventyard trace <execution ARN>`
still finds it."""

from __future__ import annotations

from typing import Any

from eventyard.runtime import tracing


def received(row: Any) -> tracing.TraceHeader:
    """The header the execution received, or a derived one."""
    given = tracing.parse(row["trace_header"])
    if given is not None:
        return given
    return tracing.TraceHeader(tracing.derived_root(row["arn"], float(row["started_at"])), None, "0")


def downstream(row: Any) -> str | None:
    """The header an execution's tasks send: its Root, the execution as Parent. An execution started
    without a trace sends none (AWS's answers then carry no AWSTraceHeader's digest, for instance)."""
    if tracing.parse(row["trace_header"]) is None:
        return None
    return str(received(row).child(tracing.derived_segment(row["arn"])))


def started(row: Any, now: float, latency_ms: float | None = None, outcome: str = "RUNNING") -> tracing.Hop:
    return tracing.Hop(received(row), tracing.derived_segment(row["arn"]), now, "states", "StartExecution",
                       row["machine_arn"], row["account_id"], row["region"], ref=row["arn"], latency_ms=latency_ms,
                       outcome=outcome)

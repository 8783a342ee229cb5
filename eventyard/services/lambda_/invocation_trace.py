"""The X-Ray trace of an invocation: a function continues the trace it was invoked with (or starts
one, as Lambda does, with Sampled=0), sees itself as the Parent in `_X_AMZN_TRACE_ID`, so the calls
its SDK makes carry the same Root, and leaves a hop (`runtime/tracing.py`) written with its log
lines: function, request id, duration and outcome."""

from __future__ import annotations

from typing import Any

from eventyard.runtime import tracing


def begin(trace: str | None, now: float) -> tuple[tracing.TraceHeader, str]:
    """The header the invocation received (a new root when none) and the invocation's segment id."""
    incoming = tracing.parse(trace) or tracing.TraceHeader(tracing.new_root(now), None, "0")
    return incoming, tracing.new_segment()


def hop(incoming: tracing.TraceHeader, segment: str, started: float, function_arn: str, account_id: str,
        region: str, result: Any) -> tracing.Hop:
    outcome = f"FunctionError: {result.function_error}" if result.function_error else "Success"
    return tracing.Hop(incoming, segment, started, "lambda", "Invoke", function_arn, account_id, region,
                       ref=result.request_id, latency_ms=round(float(result.duration_ms), 2), outcome=outcome)

"""The hook for a pipe's CloudWatch metrics (namespace AWS/EventBridge/Pipes, dimension PipeName).

The runner reports each execution here: Invocations, ExecutionFailed, ExecutionPartiallyFailed,
EnrichmentStageFailed, TargetStageFailed, EventCount, and the stage durations in milliseconds.
The CloudWatch metrics recorder (runtime/metrics.py) is not part of the server yet; when it lands,
this is the one place that forwards these numbers to it. Until then nothing is recorded.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "AWS/EventBridge/Pipes"


def record(platform: Any, pipe_name: str, metric: str, value: float, unit: str = "Count") -> None:
    """Record one data point of a pipe metric (a no-op until the metrics recorder exists)."""
    del platform, pipe_name, metric, value, unit

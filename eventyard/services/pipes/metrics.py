"""A pipe's CloudWatch metrics (namespace AWS/EventBridge/Pipes, dimension PipeName), recorded in memory
per period by the platform's metrics recorder: Invocations, EventCount, ExecutionFailed,
ExecutionPartiallyFailed, EnrichmentStageFailed, TargetStageFailed and TargetStageSkipped, and the
durations (milliseconds) Duration, EnrichmentStageDuration and TargetStageDuration."""

from __future__ import annotations

from typing import Any

NAMESPACE = "AWS/EventBridge/Pipes"


class PipeMetrics:
    def __init__(self, platform: Any, pipe: dict[str, Any]) -> None:
        self.recorder = getattr(platform, "metrics", None)
        _, _, _, self.region, self.account, _ = str(pipe["Arn"]).split(":", 5)
        self.dimensions = (("PipeName", str(pipe["Name"])),)

    def count(self, name: str, value: float = 1.0) -> None:
        if self.recorder is not None and self.recorder.enabled:
            self.recorder.count(NAMESPACE, name, self.dimensions, value, account_id=self.account, region=self.region)

    def duration(self, name: str, seconds: float) -> None:
        if self.recorder is not None and self.recorder.enabled:
            self.recorder.observe(NAMESPACE, name, self.dimensions, seconds * 1000.0, "Milliseconds",
                                  account_id=self.account, region=self.region)

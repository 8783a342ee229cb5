"""Step Functions' execution metrics (namespace AWS/States, dimension StateMachineArn), recorded in
memory per period when a standard execution starts and when it ends: ExecutionsStarted, then
ExecutionsSucceeded, -Failed, -TimedOut or -Aborted, and ExecutionTime (milliseconds)."""

from __future__ import annotations

from typing import Any

from eventyard.runtime.metrics import MetricsRecorder

NAMESPACE = "AWS/States"
ENDINGS = {"SUCCEEDED": "ExecutionsSucceeded", "FAILED": "ExecutionsFailed", "TIMED_OUT": "ExecutionsTimedOut",
           "ABORTED": "ExecutionsAborted"}


def status_changed(recorder: MetricsRecorder, execution: dict[str, Any]) -> None:
    """An execution row as it was at its start (RUNNING) or its end."""
    if not recorder.enabled:
        return
    dims = (("StateMachineArn", execution["machine_arn"]),)
    account, region = execution["account_id"], execution["region"]
    status = execution["status"]
    if status == "RUNNING":
        recorder.count(NAMESPACE, "ExecutionsStarted", dims, account_id=account, region=region)
        return
    if status in ENDINGS:
        recorder.count(NAMESPACE, ENDINGS[status], dims, account_id=account, region=region)
        stopped = execution.get("stopped_at")
        if stopped:
            recorder.observe(NAMESPACE, "ExecutionTime", dims, (stopped - execution["started_at"]) * 1000,
                             "Milliseconds", account_id=account, region=region)

"""CloudWatch Logs' metrics (namespace AWS/Logs, dimension LogGroupName): IncomingLogEvents and
IncomingBytes (uncompressed) per log group, recorded in memory per period, and the metrics of EMF
lines (`runtime/emf.py`) where AWS extracts them: function logs, and PutLogEvents requests that say
`x-amzn-logs-format: json/emf`."""

from __future__ import annotations

from collections.abc import Sequence

from eventyard.runtime import emf
from eventyard.runtime.metrics import MetricsRecorder

NAMESPACE = "AWS/Logs"
EMF_HEADER = "x-amzn-logs-format"


def ingested(recorder: MetricsRecorder, account_id: str, region: str, group: str,
             events: Sequence[tuple[int, str]], emf_format: bool = False) -> None:
    if not recorder.enabled or not events:
        return
    dims = (("LogGroupName", group),)
    size = float(sum(len(message.encode()) for _, message in events))
    for scope in (dims, ()):
        recorder.count(NAMESPACE, "IncomingLogEvents", scope, float(len(events)), account_id=account_id, region=region)
        recorder.count(NAMESPACE, "IncomingBytes", scope, size, "Bytes", account_id=account_id, region=region)
    if emf_format:
        emf.record_lines(recorder, account_id, region, events)

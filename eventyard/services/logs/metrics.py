"""CloudWatch Logs' metrics (namespace AWS/Logs), recorded in memory per period.

- IncomingLogEvents and IncomingBytes (uncompressed) per log group (LogGroupName) and account-wide;
- for subscription filters, by (DestinationType, FilterName, LogGroupName) and by LogGroupName:
  ForwardedLogEvents and ForwardedBytes (the compressed payload) when a batch reaches its destination,
  DeliveryErrors (or DeliveryThrottling, for a throttling answer) per log event of a batch the
  destination refused;
- the metrics of EMF lines (`runtime/emf.py`) where AWS extracts them: function logs, and PutLogEvents
  requests that say `x-amzn-logs-format: json/emf`.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventyard.runtime import emf
from eventyard.runtime.metric_store import Dimensions
from eventyard.runtime.metrics import MetricsRecorder

NAMESPACE = "AWS/Logs"
EMF_HEADER = "x-amzn-logs-format"
DESTINATION_TYPES = {"lambda": "Lambda", "kinesis": "Kinesis", "firehose": "Firehose"}
THROTTLING = {"ThrottlingException", "ProvisionedThroughputExceededException", "TooManyRequestsException",
              "KMSThrottlingException"}


def ingested(recorder: MetricsRecorder, account_id: str, region: str, group: str,
             events: Sequence[tuple[int, str]], emf_format: bool = False) -> None:
    if not recorder.enabled or not events:
        return
    dims = (("LogGroupName", group),)
    size = float(sum(len(message.encode()) for _, message in events))
    for scope in (dims, ()):
        recorder.count(NAMESPACE, "IncomingLogEvents", scope, float(len(events)), "None", account_id=account_id,
                       region=region)
        recorder.count(NAMESPACE, "IncomingBytes", scope, size, "Bytes", account_id=account_id, region=region)
    if emf_format:
        emf.record_lines(recorder, account_id, region, events)


def _subscription_scopes(group: str, filter_name: str, destination_kind: str) -> tuple[Dimensions, ...]:
    kind = DESTINATION_TYPES.get(destination_kind, destination_kind)
    return ((("DestinationType", kind), ("FilterName", filter_name), ("LogGroupName", group)),
            (("LogGroupName", group),))


def forwarded(recorder: MetricsRecorder, account_id: str, region: str, group: str, filter_name: str,
              destination_kind: str, events: int, compressed_bytes: int) -> None:
    """A subscription filter's batch reached its destination."""
    if not recorder.enabled:
        return
    for dims in _subscription_scopes(group, filter_name, destination_kind):
        recorder.count(NAMESPACE, "ForwardedLogEvents", dims, float(events), "None", account_id=account_id,
                       region=region)
        recorder.count(NAMESPACE, "ForwardedBytes", dims, float(compressed_bytes), "Bytes", account_id=account_id,
                       region=region)


def refused(recorder: MetricsRecorder, account_id: str, region: str, group: str, filter_name: str,
            destination_kind: str, events: int, error_code: str) -> None:
    """A subscription filter's destination refused a batch (`events` log events)."""
    if not recorder.enabled:
        return
    name = "DeliveryThrottling" if error_code in THROTTLING else "DeliveryErrors"
    for dims in _subscription_scopes(group, filter_name, destination_kind):
        recorder.count(NAMESPACE, name, dims, float(events), "None", account_id=account_id, region=region)

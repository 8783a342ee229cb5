"""SNS's CloudWatch metrics (namespace AWS/SNS, dimension TopicName), recorded in memory per period:
NumberOfMessagesPublished and PublishSize when a publish commits, NumberOfNotificationsDelivered and
NumberOfNotificationsFailed when a delivery ends (failed: given up on, whether or not dead-lettered)."""

from __future__ import annotations

from collections.abc import Iterable

from eventyard.runtime.metrics import MetricsRecorder
from eventyard.services.sns.names import TopicKey

NAMESPACE = "AWS/SNS"


def published(recorder: MetricsRecorder, key: TopicKey, sizes: Iterable[int]) -> None:
    if not recorder.enabled:
        return
    dims = (("TopicName", key.name),)
    count = 0
    for size in sizes:
        count += 1
        recorder.observe(NAMESPACE, "PublishSize", dims, float(size), "Bytes", account_id=key.account_id,
                         region=key.region)
    if count:
        recorder.count(NAMESPACE, "NumberOfMessagesPublished", dims, float(count), account_id=key.account_id,
                       region=key.region)


def delivery(recorder: MetricsRecorder, key: TopicKey, delivered: bool) -> None:
    name = "NumberOfNotificationsDelivered" if delivered else "NumberOfNotificationsFailed"
    recorder.count(NAMESPACE, name, (("TopicName", key.name),), account_id=key.account_id, region=key.region)

"""SNS's CloudWatch metrics (namespace AWS/SNS, dimension TopicName), recorded in memory per period.

- NumberOfMessagesPublished and PublishSize when a publish commits;
- NumberOfNotificationsFilteredOut when a subscription's filter policy turns a published message
  away, and by reason: -MessageAttributes (an attribute-scope policy did not match), -NoMessageAttributes
  (an attribute-scope policy, and the message has none), -MessageBody (a body-scope policy did not
  match), -InvalidMessageBody (a body-scope policy, and the body is not a JSON object);
- NumberOfNotificationsDelivered / -Failed when a delivery ends (failed: given up on, whether or not
  dead-lettered); NumberOfNotificationsRedrivenToDlq / -FailedToRedriveToDlq when a given-up delivery
  is sent to the subscription's dead-letter queue, or could not be.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from eventyard.runtime.metrics import MetricsRecorder
from eventyard.services.sns.names import TopicKey

NAMESPACE = "AWS/SNS"
FILTERED_OUT = "NumberOfNotificationsFilteredOut"


def published(recorder: MetricsRecorder, key: TopicKey, sizes: Iterable[int],
              filtered: Counter[str] | None = None) -> None:
    if not recorder.enabled:
        return
    dims = (("TopicName", key.name),)
    account, region = key.account_id, key.region
    now = recorder.clock.now()
    count = 0
    for size in sizes:
        count += 1
        recorder.observe(NAMESPACE, "PublishSize", dims, float(size), "Bytes", account_id=account, region=region,
                         timestamp=now)
    if count:
        recorder.count(NAMESPACE, "NumberOfMessagesPublished", dims, float(count), account_id=account,
                       region=region, timestamp=now)
    if filtered:
        recorder.count(NAMESPACE, FILTERED_OUT, dims, float(sum(filtered.values())), account_id=account,
                       region=region, timestamp=now)
        for reason, turned_away in filtered.items():
            recorder.count(NAMESPACE, f"{FILTERED_OUT}-{reason}", dims, float(turned_away), account_id=account,
                           region=region, timestamp=now)


def delivery(recorder: MetricsRecorder, key: TopicKey, delivered: bool) -> None:
    name = "NumberOfNotificationsDelivered" if delivered else "NumberOfNotificationsFailed"
    recorder.count(NAMESPACE, name, (("TopicName", key.name),), account_id=key.account_id, region=key.region)


def dead_lettered(recorder: MetricsRecorder, key: TopicKey, sent: bool) -> None:
    name = "NumberOfNotificationsRedrivenToDlq" if sent else "NumberOfNotificationsFailedToRedriveToDlq"
    recorder.count(NAMESPACE, name, (("TopicName", key.name),), account_id=key.account_id, region=key.region)

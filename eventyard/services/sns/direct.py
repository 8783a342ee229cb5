"""Deliveries to SQS queues written in the publish's own transaction, instead of through the outbox.

A delivery to a queue of this server is one SendMessage: made inside the transaction that commits
the publish, it needs no outbox row, no timer, no second and third transaction (the send, then the
delivery's completion) and no hop through the timer service, and it is as durable as the publish
("acknowledged = committed"). It is taken only where the outbox path would do nothing else: a
standard topic, a confirmed SQS subscription to a standard queue the topic's account may send to
without a policy check, no SNS fault rules (they act on outbox deliveries: delay, fail, duplicate),
and no SQS delivery status logging. Any delivery SQS refuses (the queue is gone, the message too
large for it, ...) is refused before anything is written and goes through the outbox as before, so
its retries, dead-letter queue and metrics are the outbox's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import crosses_accounts
from eventyard.runtime.ports import QueueSends
from eventyard.services.sns import envelope
from eventyard.services.sns import metrics as sns_metrics
from eventyard.services.sns.delivery import Dispatcher, queue_params
from eventyard.services.sns.filters import FilterIndex
from eventyard.services.sns.names import sqs_queue_parts
from eventyard.services.sns.topics import Topic
from eventyard.storage import Connection


@dataclass
class DirectSqs:
    """One publish request's direct deliveries: `deliver` inside its transaction (again on a retry, after
    `reset`), `committed` after its COMMIT."""

    dispatcher: Dispatcher
    sqs: QueueSends  # the QUEUE_SENDS port
    filters: FilterIndex
    sent: list[Callable[[], None]] = field(default_factory=list)  # what each send does after COMMIT
    topic: Topic | None = None

    def reset(self) -> None:
        self.sent.clear()
        self.topic = None

    def deliver(self, conn: Connection, topic: Topic, document: dict[str, Any], targets: list[str],
                now: float) -> list[str]:
        """Send the message to the targets that can take it here; answers the others, for the outbox."""
        if topic.fifo or topic.attributes.get("SQSSuccessFeedbackRoleArn") or self._faults_apply():
            return targets
        self.topic = topic
        caller = self.dispatcher.as_sns(document)
        rest: list[str] = []
        for arn in targets:
            subscription = self.filters.subscription(topic.arn, arn)
            parts = sqs_queue_parts(subscription.endpoint) if subscription is not None else None
            if subscription is None or subscription.protocol != "sqs" or not subscription.confirmed or parts is None \
                    or parts[2].endswith(".fifo") or crosses_accounts(caller, parts[1]):
                rest.append(arn)
                continue
            _, account, name = parts
            body = self.dispatcher.body(document, subscription, topic)
            params: dict[str, Any] = {"MessageBody": body}
            if subscription.raw and document.get("MessageAttributes"):
                params["MessageAttributes"] = envelope.sqs_message_attributes(document["MessageAttributes"])
            queue_params(params, self.dispatcher.public_url, account, name, document)
            try:
                self.sent.append(self.sqs.send(conn, subscription.endpoint, params, document.get("TraceHeader"), now))
            except AwsError:  # refused before any write: the outbox delivers it, or dead-letters it
                rest.append(arn)
        return rest

    def committed(self) -> None:
        """After COMMIT: wake the queues' long polls and count the sends and deliveries."""
        for committed in self.sent:
            committed()
            if self.topic is not None:
                sns_metrics.delivery(self.dispatcher.platform.metrics, self.topic.key, delivered=True)

    def _faults_apply(self) -> bool:
        return any(rule.service == "sns" for rule in self.dispatcher.platform.faults.rules)

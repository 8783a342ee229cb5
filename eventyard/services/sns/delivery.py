"""Delivering one stored message to one subscription: the handler of the outbox's timers.

Failures follow AWS's split ("Amazon SNS dead-letter queues"): a client-side error (the queue or
function is gone, an HTTP 4xx) is not retried; a server-side error (5xx, unreachable, throttled)
is retried by the protocol's delivery policy. Either way, a message that cannot be delivered goes
to the subscription's RedrivePolicy dead-letter queue when it has one, else it is dropped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import Caller, arn_account
from eventyard.runtime.fault_rules import FaultRule
from eventyard.runtime.faults import resource_names
from eventyard.runtime.ids import new_uuid
from eventyard.runtime.timers import RetryLater, Timer
from eventyard.services.sns import delivery_status, envelope, http_client, outbox, policies, push, sms
from eventyard.services.sns import metrics as sns_metrics
from eventyard.services.sns import subscriptions as subscription_store
from eventyard.services.sns import topics as topic_store
from eventyard.services.sns.names import lambda_function_parts, sqs_queue_parts
from eventyard.services.sns.signing import Signer
from eventyard.services.sns.subscriptions import Subscription
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

log = logging.getLogger(__name__)
CAPTURED_PROTOCOLS = {"email", "email-json", "sms", "application", "firehose"}
_THROTTLING = {"OverLimit", "ThrottlingException", "RequestThrottled", "TooManyRequestsException",
               "KmsThrottled", "Throttling"}


class DeliveryFailed(Exception):
    def __init__(self, code: str, message: str, retryable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


@dataclass
class Job:
    delivery: outbox.Delivery
    document: dict[str, Any]
    subscription: Subscription | None
    topic: topic_store.Topic | None


def _load(conn: Connection, delivery_id: int) -> Job | None:
    loaded = outbox.load(conn, delivery_id)
    if loaded is None:
        return None
    delivery, document = loaded
    subscription = subscription_store.find(conn, delivery.subscription_arn)
    topic = topic_store.find(conn, document["TopicArn"])
    return Job(delivery, document, subscription, topic)


class Dispatcher:
    def __init__(self, platform: Platform, signer: Signer) -> None:
        self.platform = platform
        self.signer = signer
        # Jobs built inside the publish transaction, by timer id: the first firing of a delivery
        # started right after COMMIT needs no read (retries and recovery load from storage).
        self._primed: dict[int, Job] = {}

    def fire_after_commit(self, claimed: list[outbox.Claimed], subscriptions: dict[str, Subscription | None],
                          topic: topic_store.Topic) -> None:
        """Deliver now the deliveries a just-committed publish claimed (see outbox.enqueue)."""
        for item in claimed:
            subscription = subscriptions.get(item.subscription_arn)
            if subscription is not None:  # else the firing reads it from storage
                delivery = outbox.Delivery(item.delivery_id, item.document["MessageId"], item.subscription_arn,
                                           item.document.get("MessageGroupId"), 0)
                self._primed[item.timer.id] = Job(delivery, item.document, subscription, topic)
            self.platform.timers.fire(item.timer)

    @property
    def public_url(self) -> str:
        return self.platform.settings.public_url

    async def handle(self, timer: Timer) -> None:
        delivery_id = int(timer.payload["delivery"])
        job = self._primed.pop(timer.id, None)
        if job is None:
            job = await self.platform.db.read(lambda conn: _load(conn, delivery_id))
        if job is None:
            return  # already finished before a crash: at-least-once ends here
        subscription = job.subscription
        pending_notification = subscription is not None and not subscription.confirmed and \
            job.document["Type"] == "Notification"
        if subscription is None or job.topic is None or pending_notification:
            await self._finish(delivery_id, timer.id)  # unsubscribed (or topic deleted) meanwhile: SNS drops it
            return
        notification = job.document["Type"] == "Notification"
        topic, faults = job.topic, self.platform.faults  # /_eventyard/faults: delay, fail, duplicate notifications
        names = resource_names(subscription.arn, job.document["TopicArn"], subscription.endpoint)
        if notification and await faults.held_back("sns", names, timer):
            return
        try:
            if notification:
                await faults.deliver("sns", names, lambda: self._deliver(job, subscription, topic), _injected_failure)
            else:
                await self._deliver(job, subscription, job.topic)
        except DeliveryFailed as failure:
            if failure.retryable:
                delay = self._schedule(subscription, job.topic).delay(job.delivery.attempts + 1)
                if delay is not None:
                    await self.platform.db.write(lambda conn: outbox.record_attempt(conn, delivery_id))
                    raise RetryLater(delay) from failure
            await self._dead_letter(job, subscription, failure)
            if notification:
                sns_metrics.delivery(self.platform.metrics, job.topic.key, delivered=False)
        else:
            if notification:
                sns_metrics.delivery(self.platform.metrics, job.topic.key, delivered=True)
        await self._finish(delivery_id, timer.id)

    async def _log_success(self, job: Job, subscription: Subscription, topic: topic_store.Topic,
                           outcome: delivery_status.Outcome) -> None:
        """Delivery status logging (`delivery_status.py`); a failure to log never fails the delivery."""
        if job.document["Type"] != "Notification" or not delivery_status.wanted(topic.attributes, subscription.protocol):
            return
        group, stream = delivery_status.log_group(topic.arn), new_uuid()
        message = delivery_status.record(job.document, subscription.endpoint, outcome, self.platform.clock.now())
        region, account = topic.key.region, topic.key.account_id
        try:
            for operation, params in (("CreateLogGroup", {"logGroupName": group}),
                                      ("CreateLogStream", {"logGroupName": group, "logStreamName": stream})):
                try:
                    await self.platform.call("logs", operation, params, region=region, account_id=account)
                except AwsError as error:
                    if error.code != "ResourceAlreadyExistsException":
                        raise
            await self.platform.call("logs", "PutLogEvents", {
                "logGroupName": group, "logStreamName": stream, "logEvents": [
                    {"timestamp": int(self.platform.clock.now() * 1000), "message": message}]},
                region=region, account_id=account)
        except AwsError as error:
            log.warning("SNS delivery status for %s not logged: %s", topic.arn, error.message)

    async def on_exhausted(self, timer: Timer, error: BaseException) -> None:
        """An unexpected error outlasted the timer's own retries: dead-letter rather than spin."""
        delivery_id = int(timer.payload["delivery"])
        job = await self.platform.db.read(lambda conn: _load(conn, delivery_id))
        if job is not None and job.subscription is not None:
            await self._dead_letter(job, job.subscription, DeliveryFailed("InternalError", str(error), False))
        await self._finish(delivery_id)

    async def _finish(self, delivery_id: int, timer_id: int | None = None) -> None:
        now = self.platform.clock.now()
        if await self.platform.db.write(lambda conn: outbox.complete(conn, delivery_id, now, timer_id)):
            self.platform.timers.wake()

    def _schedule(self, subscription: Subscription, topic: topic_store.Topic) -> policies.RetrySchedule:
        if subscription.protocol in {"http", "https"}:
            effective = policies.effective_subscription_delivery_policy(
                topic.attributes.get("DeliveryPolicy"), subscription.attributes.get("DeliveryPolicy"))
            return policies.http_schedule(effective)
        return policies.MANAGED_SCHEDULE

    # -- per protocol ----------------------------------------------------------------------
    def _signed(self, job: Job, subscription: Subscription, topic: topic_store.Topic) -> dict[str, Any]:
        return envelope.envelope(job.document, subscription.protocol, subscription.arn, self.signer,
                                 self.public_url, topic.signature_version)

    def _payload(self, job: Job, subscription: Subscription, topic: topic_store.Topic) -> str:
        return self.body(job.document, subscription, topic)

    def body(self, document: dict[str, Any], subscription: Subscription, topic: topic_store.Topic) -> str:
        """What the subscriber receives: the raw message, or the signed JSON envelope."""
        if subscription.raw and document["Type"] == "Notification":
            return envelope.protocol_message(document, subscription.protocol)
        return json.dumps(envelope.envelope(document, subscription.protocol, subscription.arn, self.signer,
                                            self.public_url, topic.signature_version), indent=2)

    async def _deliver(self, job: Job, subscription: Subscription, topic: topic_store.Topic) -> None:
        protocol = subscription.protocol
        if protocol == "sqs":
            await self._log_success(job, subscription, topic, await self._to_sqs(job, subscription, topic))
        elif protocol in {"http", "https"}:
            await self._to_http(job, subscription, topic)
        elif protocol == "lambda":
            await self._log_success(job, subscription, topic, await self._to_lambda(job, subscription, topic))
        elif protocol == "application":  # mobile push: the endpoint's platform payload (push.py)
            await push.deliver_to_subscription(self.platform, job.document, subscription.arn, subscription.endpoint)
        elif protocol == "sms" and job.document["Type"] == "Notification":
            await sms.deliver_to_subscription(self.platform, job.document, subscription.arn, subscription.endpoint)
        else:
            await self._capture(job, subscription, topic)

    async def _to_sqs(self, job: Job, subscription: Subscription,
                      topic: topic_store.Topic) -> delivery_status.Outcome:
        document = job.document
        params: dict[str, Any] = {"MessageBody": self._payload(job, subscription, topic)}
        if subscription.raw and document.get("MessageAttributes"):
            params["MessageAttributes"] = envelope.sqs_message_attributes(document["MessageAttributes"])
        sent = await self._send_to_queue(subscription.endpoint, params, document)
        return delivery_status.Outcome(200, {"sqsRequestId": new_uuid(), "sqsMessageId": sent.get("MessageId")})

    async def _send_to_queue(self, queue_arn: str, params: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
        parts = sqs_queue_parts(queue_arn)
        if parts is None:
            raise DeliveryFailed("InvalidParameter", f"not a queue ARN: {queue_arn}", False)
        region, account, name = parts
        queue_params(params, self.public_url, account, name, document)
        headers = {"x-amzn-trace-id": document["TraceHeader"]} if document.get("TraceHeader") else None
        try:
            return await self.platform.call("sqs", "SendMessage", params, region=region, account_id=account,
                                            headers=headers, caller=self.as_sns(document))
        except AwsError as error:
            raise _classify(error) from error

    def as_sns(self, document: dict[str, Any]) -> Caller | None:
        """SNS delivers as sns.amazonaws.com for the topic: a queue or function of another account
        must let it in by its resource policy (usually with aws:SourceArn), as on AWS."""
        topic_arn = str(document.get("TopicArn") or "")
        return self.platform.service_caller("sns.amazonaws.com", topic_arn, arn_account(topic_arn) or "")

    async def _to_http(self, job: Job, subscription: Subscription, topic: topic_store.Topic) -> None:
        document = job.document
        kind = document["Type"]
        effective = policies.effective_subscription_delivery_policy(
            topic.attributes.get("DeliveryPolicy"), subscription.attributes.get("DeliveryPolicy"))
        content_type = effective["requestPolicy"].get("headerContentType", "text/plain; charset=UTF-8")
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Amazon Simple Notification Service Agent",
            "x-amz-sns-message-type": kind,
            "x-amz-sns-message-id": document["MessageId"],
            "x-amz-sns-topic-arn": document["TopicArn"],
        }
        if kind == "Notification":
            headers["x-amz-sns-subscription-arn"] = subscription.arn
            if subscription.raw:
                headers["x-amz-sns-rawdelivery"] = "true"
        if document.get("TraceHeader"):
            headers["X-Amzn-Trace-Id"] = document["TraceHeader"]
        body = self._payload(job, subscription, topic).encode()
        try:
            status = await http_client.post(subscription.endpoint, headers, body)
        except (OSError, TimeoutError) as error:
            raise DeliveryFailed("EndpointUnreachable", str(error) or type(error).__name__, True) from error
        if 200 <= status < 300:
            return
        # 5xx and 429 are the endpoint's trouble (retried); other 4xx are client errors (not retried).
        raise DeliveryFailed(f"HTTP{status}", f"endpoint answered {status}", status >= 500 or status == 429)

    async def _to_lambda(self, job: Job, subscription: Subscription,
                         topic: topic_store.Topic) -> delivery_status.Outcome:
        parts = lambda_function_parts(subscription.endpoint)
        region, account = parts if parts else (topic.key.region, topic.key.account_id)
        payload = envelope.lambda_event(job.document, subscription.arn, self._signed(job, subscription, topic))
        headers = {"x-amzn-trace-id": job.document["TraceHeader"]} if job.document.get("TraceHeader") else None
        try:
            answer = await self.platform.call("lambda", "Invoke", {"FunctionName": subscription.endpoint,
                                                                   "InvocationType": "Event", "Payload": payload},
                                              region=region, account_id=account, headers=headers,
                                              caller=self.as_sns(job.document))
        except AwsError as error:
            raise _classify(error) from error
        return delivery_status.Outcome(int(answer.get("StatusCode") or 202), {"lambdaRequestId": new_uuid()})

    async def _capture(self, job: Job, subscription: Subscription, topic: topic_store.Topic) -> None:
        document = job.document
        record: dict[str, Any] = {
            "protocol": subscription.protocol, "endpoint": subscription.endpoint,
            "subscription_arn": subscription.arn, "topic_arn": document["TopicArn"],
            "message_id": document["MessageId"], "type": document["Type"], "subject": document.get("Subject"),
            "timestamp": document["Timestamp"],
        }
        if document["Type"] == "Notification":
            record["message"] = envelope.protocol_message(document, subscription.protocol)
            record["message_attributes"] = document.get("MessageAttributes") or {}
        else:
            record["message"] = document["Message"]
            record["subscribe_url"] = document["SubscribeURL"]
            record["token"] = document["Token"]
        if subscription.protocol in {"email-json", "firehose", "application"}:
            record["body"] = self._payload(job, subscription, topic)
        now = self.platform.clock.now()
        await self.platform.db.write(lambda conn: outbox.capture(conn, record, now))

    async def _dead_letter(self, job: Job, subscription: Subscription, failure: DeliveryFailed) -> None:
        target = subscription.dead_letter_arn
        if target is None or job.topic is None:
            log.info("SNS dropped message %s for %s: %s", job.document["MessageId"], subscription.arn, failure)
            return
        # The dead-letter queue gets what the subscriber would have: the same body, and with raw delivery
        # the message attributes (recorded against AWS: no error attributes are added).
        document = job.document
        params: dict[str, Any] = {"MessageBody": self._payload(job, subscription, job.topic)}
        if subscription.raw and document.get("MessageAttributes") and document["Type"] == "Notification":
            params["MessageAttributes"] = envelope.sqs_message_attributes(document["MessageAttributes"])
        try:
            await self._send_to_queue(target, params, job.document)
        except DeliveryFailed as error:  # the DLQ itself is gone: AWS discards the message
            log.warning("SNS dead-letter queue %s unusable for %s: %s", target, subscription.arn, error)
            sns_metrics.dead_lettered(self.platform.metrics, job.topic.key, sent=False)
        else:
            sns_metrics.dead_lettered(self.platform.metrics, job.topic.key, sent=True)


def queue_params(params: dict[str, Any], public_url: str, account: str, name: str, document: dict[str, Any]) -> None:
    """Complete a delivery's SendMessage parameters: the queue's URL, and the message's group."""
    params["QueueUrl"] = f"{public_url}/{account}/{name}"
    # A FIFO topic's group id goes to FIFO queues only; a standard topic's group id (SQS fair
    # queues) goes to any queue (both recorded against AWS).
    fifo_topic = bool(document.get("SequenceNumber"))
    if document.get("MessageGroupId") and (name.endswith(".fifo") or not fifo_topic):
        params["MessageGroupId"] = document["MessageGroupId"]
        if name.endswith(".fifo"):
            params["MessageDeduplicationId"] = document["MessageDeduplicationId"]


def _injected_failure(rule: FaultRule) -> DeliveryFailed:
    """A `fail` rule's delivery: a server-side error of the endpoint, retried by the delivery policy."""
    return DeliveryFailed("InternalFailure", "the endpoint failed this delivery (an Eventyard fault rule)", True)


def _classify(error: AwsError) -> DeliveryFailed:
    retryable = error.status >= 500 or error.code in _THROTTLING or not error.sender_fault
    return DeliveryFailed(error.code, error.message, retryable)

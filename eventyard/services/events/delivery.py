"""Delivering one event to one target: invoke, then on failure retry with exponential backoff until
the target's RetryPolicy gives up, then send to its dead-letter queue with AWS's error attributes.

Each delivery is a durable timer (see ingest.py). A retry is a new timer written in the same
transaction that retires the failed one, so attempts and backoff survive a restart.
"""

from __future__ import annotations

import json
import logging
import random
from functools import partial
from typing import TYPE_CHECKING, Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.runtime.access import Caller, Decision, arn_account, crosses_accounts, refusal_message
from eventyard.runtime.ports import DeliveryFailure as Failure
from eventyard.runtime.ports import ToBus
from eventyard.runtime.timers import RetryLater, Timer
from eventyard.services.events import access as events_access
from eventyard.services.events import connections, faults, http_targets, store
from eventyard.services.events import metrics as events_metrics
from eventyard.services.events.arns import parse_arn
from eventyard.services.events.ingest import DELIVERY_TIMER
from eventyard.services.transform import MISSING, iso_seconds, json_path, render_input

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

log = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 185
DEFAULT_MAX_AGE = 86400
BASE_DELAY = 1.0
MAX_DELAY = 300.0
THROTTLING = {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
              "TooManyRequestsException", "ProvisionedThroughputExceededException", "KMSThrottlingException"}
# A target's resource policy refused the delivery (another account's queue, topic, function, stream).
NO_PERMISSIONS = {"AccessDenied", "AccessDeniedException", "AuthorizationError"}
NOT_FOUND = {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "NotFound", "NotFoundException",
             "ResourceNotFoundException", "StateMachineDoesNotExist", "UnknownServiceException"}

def backoff(attempt: int) -> float:
    """Exponential with jitter, as AWS describes: half fixed, half random."""
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def classify(error: AwsError) -> Failure:
    if error.code in THROTTLING:
        return Failure("THROTTLING", error.message, True)
    if error.code in NO_PERMISSIONS:
        return Failure("NO_PERMISSIONS", error.message, False)
    if error.code in NOT_FOUND:
        return Failure("RESOURCE_NOT_FOUND", error.message or error.code, False)
    if error.status >= 500:
        return Failure("INTERNAL_ERROR", error.message, True)
    return Failure("SDK_CLIENT_ERROR", f"{error.code}: {error.message}", False)


class Deliverer:
    def __init__(self, platform: Platform, cross_bus: ToBus, kind: str = DELIVERY_TIMER) -> None:
        self.platform = platform
        self.kind = kind
        self.cross_bus = cross_bus
        self.buckets = http_targets.TokenBuckets()
        self.oauth = http_targets.OAuthTokens()

    def register(self) -> None:
        # The kind's own policy only covers failures of our bookkeeping (e.g. a DLQ send that failed).
        self.platform.timers.register(self.kind, self.handle,
                                      timers.RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=60.0))

    async def handle(self, timer: Timer) -> None:
        payload = timer.payload
        service, names = faults.delivery_resources(payload)  # /_eventyard/faults: delay, fail, duplicate
        if await self.platform.faults.held_back(service, names, timer):
            return
        try:
            await self.platform.faults.deliver(service, names, lambda: self.invoke(payload), faults.injected_failure)
            events_metrics.attempted(self.platform.metrics, payload, succeeded=True)
            return
        except Failure as failure:
            error = failure
        except AwsError as aws_error:
            error = classify(aws_error)
        events_metrics.attempted(self.platform.metrics, payload, succeeded=False, throttled=error.code == "THROTTLING")
        await self.failed(timer, payload, error)

    async def failed(self, timer: Timer, payload: dict[str, Any], error: Failure) -> None:
        target = payload["target"]
        retry = target.get("RetryPolicy") or {}
        max_retries = retry.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES)
        max_age = retry.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
        attempt = int(payload.get("attempt", 1))
        now = self.platform.clock.now()
        delay = backoff(attempt)
        if error.retryable and attempt <= max_retries and now + delay - payload["ingested"] <= max_age:
            again = {**payload, "attempt": attempt + 1}

            def reschedule(conn: Any) -> None:
                timers.schedule(conn, self.kind, again, now + delay, now)
                timers.cancel(conn, timer.id)

            await self.platform.db.write(reschedule)
            self.platform.timers.wake()
            return
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            events_metrics.gave_up(self.platform.metrics, payload, "dropped")
            log.info("event %s to %s dropped after %d attempt(s): %s", payload["event"].get("id"),
                     target["Arn"], attempt, error.message)
            return
        try:
            await self.send_to_dlq(dlq, payload, error, attempt)
        except AwsError as refused:  # the queue is gone or refuses: the event is lost (5xx: ours, retried)
            if refused.status >= 500:
                raise
            events_metrics.gave_up(self.platform.metrics, payload, "dead_letter_refused")
            log.warning("dead-letter queue %s refused event %s: %s", dlq, payload["event"].get("id"), refused.message)
            return
        events_metrics.gave_up(self.platform.metrics, payload, "dead_lettered")

    async def send_to_dlq(self, dlq: str, payload: dict[str, Any], error: Failure, attempt: int) -> None:
        _, region, account, name = parse_arn(dlq)
        # EventBridge names the rule; Scheduler names the schedule.
        source = {"SCHEDULE_ARN": payload["schedule_arn"]} if "schedule_arn" in payload else {
            "RULE_ARN": payload["rule_arn"]}
        attributes = {
            **source, "TARGET_ARN": payload["target"]["Arn"],
            "ERROR_CODE": error.code, "ERROR_MESSAGE": error.message[:1000] or error.code,
            "RETRY_ATTEMPTS": str(attempt - 1),
        }
        # EventBridge dead-letters the event; Scheduler has no event, its dead-letter body is the target's
        # input (a Scheduler payload's "event" is empty except for event-bus targets).
        body = payload["target"].get("Input") or "{}" if "schedule_arn" in payload else json.dumps(payload["event"])
        await self.platform.call("sqs", "SendMessage", {
            "QueueUrl": f"{self.platform.settings.public_url}/{account}/{name}",
            "MessageBody": body,
            "MessageAttributes": {k: {"DataType": "Number" if k == "RETRY_ATTEMPTS" else "String",
                                      "StringValue": v} for k, v in attributes.items()},
        }, region=region, account_id=account, headers=self._trace(payload))

    @staticmethod
    def _trace(payload: dict[str, Any]) -> dict[str, str]:
        return {"x-amzn-trace-id": payload["trace"]} if payload.get("trace") else {}

    async def invoke(self, payload: dict[str, Any]) -> None:
        target, event = payload["target"], payload["event"]
        arn = target["Arn"]
        service, region, account, resource = parse_arn(arn)
        body = render_input(target, event, payload.get("rule", ""), payload.get("rule_arn", ""), payload["ingested"])
        if body is None:
            return  # a JSON template that rendered to something not JSON: AWS skips the target silently
        headers = self._trace(payload)
        call = partial(self.platform.call, caller=self._acting_for(payload))
        if service == "sqs":
            params: dict[str, Any] = {"QueueUrl": f"{self.platform.settings.public_url}/{account}/{resource}",
                                      "MessageBody": body}
            if resource.endswith(".fifo"):
                params["MessageGroupId"] = (target.get("SqsParameters") or {}).get("MessageGroupId")
                params["MessageDeduplicationId"] = event["id"]  # AWS deduplicates FIFO targets by event id
            await call("sqs", "SendMessage", params, region=region, account_id=account, headers=headers)
        elif service == "sns":
            await call("sns", "Publish", {"TopicArn": arn, "Message": body}, region=region, account_id=account,
                       headers=headers)
        elif service == "events" and resource.startswith("event-bus/"):
            await self._may_put_events(payload, arn)
            await self.cross_bus(account, region, resource.split("/", 1)[1], event, payload.get("trace"))
        elif service == "events" and resource.startswith("api-destination/"):
            await self._api_destination(payload, account, region, resource, body)
        elif service == "lambda":
            await call("lambda", "Invoke", {"FunctionName": arn, "InvocationType": "Event",
                                            "Payload": body.encode()}, region=region, account_id=account,
                       headers=headers)
        elif service == "states":
            params = {"stateMachineArn": arn, "input": body}
            if payload.get("trace"):
                # StartExecution takes the X-Ray header as its `traceHeader` parameter (DescribeExecution
                # returns it), so EventBridge's trace propagation reaches the execution through it.
                params["traceHeader"] = payload["trace"]
            await call("stepfunctions", "StartExecution", params, region=region, account_id=account, headers=headers)
        elif service == "kinesis":
            key_path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
            key = json_path(event, key_path) if key_path else MISSING
            await call("kinesis", "PutRecord", {
                "StreamName": resource.split("/", 1)[-1], "Data": body.encode(),
                "PartitionKey": str(key) if key is not MISSING else event["id"],
            }, region=region, account_id=account, headers=headers)
        elif service == "logs" and resource.startswith("log-group:"):
            await self._log_group(account, region, resource, event, body, headers)
        else:
            raise Failure("UNSUPPORTED_OPERATION", f"Target type {service} is not supported by Eventyard.", False)

    def _acting_for(self, payload: dict[str, Any]) -> Caller | None:
        """Who a delivery acts as toward a target of another account (authentication on): the target's
        role when it names one (Scheduler's always do), else events.amazonaws.com for the rule."""
        role = payload["target"].get("RoleArn")
        if role:
            return self.platform.role_caller(role, "events")
        source = payload.get("rule_arn") or payload.get("schedule_arn") or ""
        return self.platform.service_caller("events.amazonaws.com", source, arn_account(source) or "")

    async def _may_put_events(self, payload: dict[str, Any], bus: str) -> None:
        """An event-bus target of another account takes the event only if its bus policy lets the
        sender (the rule's account, or the target's role) call events:PutEvents, as on AWS."""
        acting = self._acting_for(payload)
        if acting is None:
            return
        if acting.service:  # the bus policy names the sending account, for the rule (aws:SourceArn)
            acting = Caller(acting.account_id, f"arn:aws:iam::{acting.account_id}:root", source_arn=acting.source_arn,
                            source_account=acting.account_id)
        if crosses_accounts(acting, arn_account(bus) or ""):
            decision = await events_access.check(self.platform, acting, "events:PutEvents", bus)
            if decision is not Decision.ALLOWED:
                raise Failure("NO_PERMISSIONS", refusal_message(acting, "events:PutEvents", bus, decision), False)

    async def _log_group(self, account: str, region: str, resource: str, event: dict[str, Any], body: str,
                         headers: dict[str, str]) -> None:
        """A CloudWatch Logs target: the event becomes one log event in a stream named by the event's id,
        stamped with the event's time. A `{"timestamp", "message"}` input (the shape AWS's log-group
        targets take from an input transformer) sets both itself."""
        group = resource.split(":", 1)[1].removesuffix(":*")
        message, stamp = body, int(iso_seconds(event["time"]) * 1000)
        try:
            shaped = json.loads(body)
        except ValueError:
            shaped = None
        if isinstance(shaped, dict) and "message" in shaped and set(shaped) <= {"message", "timestamp"}:
            message = shaped["message"] if isinstance(shaped["message"], str) else json.dumps(shaped["message"])
            stamp = int(shaped.get("timestamp") or stamp)
        stream = {"logGroupName": group, "logStreamName": event["id"]}
        try:
            await self.platform.call("logs", "CreateLogStream", stream, region=region, account_id=account,
                                     headers=headers)
        except AwsError as error:
            if error.code != "ResourceAlreadyExistsException":
                raise
        await self.platform.call("logs", "PutLogEvents", {**stream, "logEvents": [
            {"timestamp": stamp, "message": message}]}, region=region, account_id=account, headers=headers)

    async def _api_destination(self, payload: dict[str, Any], account: str, region: str, resource: str,
                               body: str) -> None:
        name = resource.split("/")[1]
        try:
            destination, connection = await self.platform.db.read(lambda conn: destination_and_connection(
                conn, account, region, name))
        except AwsError as error:
            raise Failure("RESOURCE_NOT_FOUND", error.message, False) from None
        now = self.platform.clock.now()
        wait = self.buckets.wait_time(destination["ApiDestinationArn"],
                                      float(destination["InvocationRateLimitPerSecond"]), now)
        if wait > 0:
            raise RetryLater(wait)  # over the rate limit: held back, not a failed attempt
        outcome = await http_targets.invoke(destination, connection, payload["target"], body, self.oauth, now)
        if outcome.ok:
            if connection["ConnectionState"] != "AUTHORIZED":  # an OAuth token was obtained
                await self.platform.db.write(lambda conn: connections.mark_authorized(
                    conn, account, region, connection["Name"], now))
            return
        if outcome.status is None:
            raise Failure("CONNECTION_FAILURE", f"Unable to invoke ApiDestination endpoint: {outcome.reason}", True)
        raise Failure("SDK_CLIENT_ERROR", "Unable to invoke ApiDestination endpoint: API destination endpoint "
                      f"returned HTTP status code {outcome.status}.", outcome.retryable)


def destination_and_connection(conn: Any, account: str, region: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    destination = connections.get_destination(conn, account, region, name)
    name_of_connection = connections.connection_name(destination["ConnectionArn"])
    connection = store.get(conn, connections.CONNECTION, account, region, name_of_connection)
    if connection is None:
        raise AwsError("ResourceNotFoundException", f"Connection {name_of_connection} does not exist.")
    return destination, connection

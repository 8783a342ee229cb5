"""The asynchronous invocation queue: durable timers, AWS's retry schedule, event age, destinations.

`Invoke` with InvocationType=Event commits a timer and answers 202. The timer's handler runs the
function; a function error schedules the next attempt (AWS waits about 1 minute, then 2), and an
exhausted or expired event goes to the OnFailure destination or the DLQ.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers, tracing
from eventyard.runtime.timers import RetryLater, Timer
from eventyard.storage import Connection

log = logging.getLogger(__name__)

KIND = "lambda.async"
RETRY_DELAYS = (60.0, 120.0)  # AWS's backoff between asynchronous retries
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_AGE = 21600


def enqueue(conn: Connection, now: float, *, region: str, account_id: str, function: str,
            qualifier: str | None, payload: bytes, request_id: str, trace: str | None) -> None:
    timers.schedule(conn, KIND, {
        "region": region, "account_id": account_id, "function": function, "qualifier": qualifier,
        # Lambda starts a trace for an event that came without one: its destination records carry it
        "payload": base64.b64encode(payload).decode(), "request_id": request_id,
        "trace": trace or str(tracing.TraceHeader(tracing.new_root(now), None, "0")),
        "attempt": 1, "enqueued_at": now,
    }, now, now)


def retry_delay(attempt: int) -> float:
    return RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)]


async def handle(provider: Any, timer: Timer) -> None:
    """Run one attempt; on failure schedule the next or give up to the failure destination."""
    from eventyard.services.lambda_ import destinations
    from eventyard.services.lambda_.pool import Throttled

    job = timer.payload
    platform = provider.platform
    now = platform.clock.now()
    payload = base64.b64decode(job["payload"])
    config = await provider.event_invoke_config(job["region"], job["account_id"], job["function"], job["qualifier"])
    max_retries = config.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES)
    max_age = config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
    on_success = ((config.get("DestinationConfig") or {}).get("OnSuccess") or {}).get("Destination")
    on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    function_arn = config["_FunctionArn"]
    if now - job["enqueued_at"] > max_age:
        await _fail(provider, job, payload, function_arn, "EventAgeExceeded", job["attempt"] - 1, None, on_failure)
        return
    try:
        result = await provider.run_invocation(job["region"], job["account_id"], job["function"], job["qualifier"],
                                               payload, job["trace"], job["request_id"])
    except Throttled as exc:
        if exc.zero_reserved:  # AWS does not keep an event no environment may ever take
            await _fail(provider, job, payload, function_arn, "ZeroReservedConcurrency", 0, None, on_failure)
            return
        raise RetryLater(1.0) from exc
    except Exception as exc:  # the function is gone or cannot start: a failed attempt all the same
        log.info("async invoke of %s failed: %s", job["function"], exc)
        result = None
    if result is not None and not result.function_error:
        if on_success:
            doc = destinations.record(now, job["request_id"], function_arn, "Success", job["attempt"], payload,
                                      result.payload, result.version, None)
            await _refusal_counted(provider, job, "DestinationDeliveryFailures",
                                   destinations.send(platform, on_success, doc, True, job["trace"]))
        return
    if job["attempt"] <= max_retries:
        following = dict(job, attempt=job["attempt"] + 1)
        due = now + retry_delay(job["attempt"])
        await platform.db.write(lambda c: timers.schedule(c, KIND, following, due, now))
        platform.timers.wake()
        return
    await _fail(provider, job, payload, function_arn, "RetriesExhausted", job["attempt"], result, on_failure)


async def _fail(provider: Any, job: dict[str, Any], payload: bytes, function_arn: str, condition: str,
                attempts: int, result: Any, on_failure: str | None) -> None:
    from eventyard.services.lambda_ import destinations

    platform = provider.platform
    now = platform.clock.now()
    provider.metrics.async_event("AsyncEventsDropped", job)
    if on_failure:
        doc = destinations.record(now, job["request_id"], function_arn, condition, attempts, payload,
                                  result.payload if result else None, result.version if result else "$LATEST",
                                  result.function_error if result else None)
        await _refusal_counted(provider, job, "DestinationDeliveryFailures",
                               destinations.send(platform, on_failure, doc, False, job["trace"]))
        return
    dlq = await provider.dead_letter_target(job["region"], job["account_id"], job["function"])
    if dlq:
        message = _error_message(result.payload) if result else condition
        await _refusal_counted(provider, job, "DeadLetterErrors",
                               destinations.send_to_dlq(platform, dlq, payload, job["request_id"], "200", message))


def _error_message(payload: bytes) -> str:
    """The ErrorMessage a dead-letter record carries: the function error's own message, as AWS sends it."""
    text = payload.decode("utf-8", "replace")
    try:
        error = json.loads(text)
    except ValueError:
        return text
    return str(error["errorMessage"]) if isinstance(error, dict) and "errorMessage" in error else text


async def _refusal_counted(provider: Any, job: dict[str, Any], metric: str, sending: Awaitable[None]) -> None:
    """Send to a destination or dead-letter target. One that refuses (gone, or a wrong ARN: a 4xx)
    loses the record, as on AWS, and counts in `metric`; an error of ours (5xx) raises, and the
    attempt is retried."""
    try:
        await sending
    except AwsError as error:
        if error.status >= 500:
            raise
        log.warning("async invoke of %s: %s refused the record: %s", job["function"], metric, error.message)
        provider.metrics.async_event(metric, job)

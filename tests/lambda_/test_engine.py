"""Engine tests without a server: the asynchronous invocation queue's retry timing, event age and failure
record driven by a ManualClock, and the Kinesis poller's pure parts (partial batch responses, lanes).

The function runs are scripted here (the provider's `run_invocation` answers from a list): what is
under test is the queue's timing and bookkeeping; real workers are covered by the live-server tests.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest

from eventyard.runtime import timers
from eventyard.runtime.clock import ManualClock
from eventyard.runtime.timers import RetryLater, Timer
from eventyard.services.lambda_ import async_invoke
from eventyard.services.lambda_.kinesis_poller import _lane, failed_from, kinesis_record, passes_kinesis_filters
from eventyard.services.lambda_.pollers import compile_filters
from eventyard.services.lambda_.pool import InvokeResult, Throttled
from eventyard.storage import SqliteDatabase

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"
DLQ = "arn:aws:sqs:us-east-1:000000000000:failures"


class Platform:
    def __init__(self, db: SqliteDatabase, clock: ManualClock) -> None:
        self.db = db
        self.clock = clock
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.timers = self

    def wake(self) -> None:
        pass

    async def call(self, service: str, operation: str, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.calls.append((service, operation, params))
        return {"QueueUrl": "http://queue"} if operation == "GetQueueUrl" else {}


class AsyncEventMetrics:
    """The asynchronous-event metrics async_invoke records, by name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def async_event(self, name: str, job: dict[str, Any]) -> None:
        self.names.append(name)


class Provider:
    """The provider surface async_invoke uses, with scripted invocation outcomes."""

    def __init__(self, platform: Platform, outcomes: list[Any], config: dict[str, Any]) -> None:
        self.platform = platform
        self.outcomes = outcomes
        self.config = config
        self.runs: list[float] = []
        self.metrics = AsyncEventMetrics()

    async def event_invoke_config(self, *_: Any) -> dict[str, Any]:
        return dict(self.config, _FunctionArn=f"{ARN}:$LATEST")

    async def run_invocation(self, *_: Any) -> InvokeResult:
        self.runs.append(self.platform.clock.now())
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        error = None if outcome == "ok" else "Unhandled"
        payload = b'{"done": true}' if outcome == "ok" else b'{"errorMessage": "boom", "errorType": "ValueError"}'
        return InvokeResult("req", payload, error, "$LATEST", [], "stream", "/aws/lambda/f", 1.0)

    async def dead_letter_target(self, *_: Any) -> str | None:
        return None


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    database.migrate(timers.MIGRATIONS)
    database.start()
    yield database
    database.close()


async def due_timers(db: SqliteDatabase) -> list[Timer]:
    rows = await db.read(lambda c: c.execute("SELECT * FROM timers ORDER BY id").fetchall())
    return [Timer(r["id"], r["kind"], r["due_at"], json.loads(r["payload"]), r["attempts"] + 1, r["created_at"])
            for r in rows]


async def fire_next(db: SqliteDatabase, provider: Provider) -> Timer:
    """Fire the latest timer as TimerService would, and remove it as a successful handler's timer is."""
    timer = (await due_timers(db))[-1]
    assert timer.due_at <= provider.platform.clock.now()
    await async_invoke.handle(provider, timer)
    await db.write(lambda c: timers.cancel(c, timer.id))
    return timer


def enqueue(db: SqliteDatabase, clock: ManualClock, payload: bytes = b'{"n": 1}') -> None:
    db.run_sync(lambda c: async_invoke.enqueue(c, clock.now(), region="us-east-1", account_id="000000000000",
                                               function="f", qualifier=None, payload=payload, request_id="r-1",
                                               trace=None))


def test_failed_event_invokes_retry_after_one_then_two_minutes_then_reach_the_destination(db: Any) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        platform = Platform(db, clock)
        provider = Provider(platform, ["error", "error", "error"],
                            {"DestinationConfig": {"OnFailure": {"Destination": DLQ}}})
        start = clock.now()
        enqueue(db, clock)
        await fire_next(db, provider)
        [retry] = await due_timers(db)
        assert retry.due_at == start + 60 and retry.payload["attempt"] == 2
        clock.advance(59)
        assert (await due_timers(db))[0].due_at > clock.now()  # not due a second early
        clock.advance(1)
        await fire_next(db, provider)
        [retry] = await due_timers(db)
        assert retry.due_at == start + 60 + 120 and retry.payload["attempt"] == 3
        clock.advance(120)
        await fire_next(db, provider)
        assert await due_timers(db) == []
        assert provider.runs == [start, start + 60, start + 180]
        sent = [params for _, operation, params in platform.calls if operation == "SendMessage"]
        record = json.loads(sent[0]["MessageBody"])
        assert record["requestContext"] == {"requestId": "r-1", "functionArn": f"{ARN}:$LATEST",
                                            "condition": "RetriesExhausted", "approximateInvokeCount": 3}
        assert record["requestPayload"] == {"n": 1} and record["responsePayload"]["errorMessage"] == "boom"
        assert record["timestamp"] == "2023-11-14T22:16:20.000Z"  # the ManualClock's moment, not the wall's
        assert provider.metrics.names == ["AsyncEventsDropped"]
    asyncio.run(scenario())


def test_an_event_older_than_its_maximum_age_is_dropped_without_another_attempt(db: Any) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        platform = Platform(db, clock)
        provider = Provider(platform, ["error"], {"MaximumEventAgeInSeconds": 100,
                                                  "DestinationConfig": {"OnFailure": {"Destination": DLQ}}})
        enqueue(db, clock)
        await fire_next(db, provider)
        clock.advance(120)  # the retry falls due after the event expired
        await fire_next(db, provider)
        assert len(provider.runs) == 1
        record = json.loads([p for _, op, p in platform.calls if op == "SendMessage"][0]["MessageBody"])
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 1
    asyncio.run(scenario())


def test_zero_retries_fail_at_once_and_success_goes_to_its_own_destination(db: Any) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        platform = Platform(db, clock)
        ok_arn = "arn:aws:sns:us-east-1:000000000000:ok"
        provider = Provider(platform, ["error", "ok"], {"MaximumRetryAttempts": 0, "DestinationConfig": {
            "OnFailure": {"Destination": DLQ}, "OnSuccess": {"Destination": ok_arn}}})
        enqueue(db, clock)
        await fire_next(db, provider)
        assert await due_timers(db) == []
        enqueue(db, clock)
        await fire_next(db, provider)
        published = [p for service, op, p in platform.calls if op == "Publish"]
        assert published[0]["TopicArn"] == ok_arn
        assert json.loads(published[0]["Message"])["requestContext"]["condition"] == "Success"
    asyncio.run(scenario())


def test_a_throttled_attempt_is_retried_soon_without_spending_a_retry(db: Any) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        provider = Provider(Platform(db, clock), [Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")], {})
        enqueue(db, clock)
        timer = (await due_timers(db))[0]
        with pytest.raises(RetryLater) as later:
            await async_invoke.handle(provider, timer)
        assert later.value.delay == 1.0
        assert (await due_timers(db))[0].payload["attempt"] == 1
    asyncio.run(scenario())


def records(*seqs: str) -> list[dict[str, Any]]:
    return [{"SequenceNumber": s, "PartitionKey": "p", "Data": b"x", "ApproximateArrivalTimestamp": 1.5}
            for s in seqs]


def test_partial_batch_responses_retry_from_the_lowest_reported_sequence_number() -> None:
    batch = records("11", "12", "13", "14")
    assert failed_from(b'{"batchItemFailures": []}', batch) is None
    assert failed_from(b"null", batch) is None
    assert failed_from(b'{"batchItemFailures": [{"itemIdentifier": "14"}, {"itemIdentifier": "12"}]}', batch) == 1
    assert failed_from(b'{"batchItemFailures": [{"itemIdentifier": "99"}]}', batch) == 0
    assert failed_from(b'{"batchItemFailures": [{"itemIdentifier": ""}]}', batch) == 0
    assert failed_from(b"not json", batch) == 0


def test_kinesis_records_take_aws_shape_and_filters_see_parsed_data() -> None:
    raw = {"SequenceNumber": "49", "PartitionKey": "pk", "Data": b'{"kind": "keep"}',
           "ApproximateArrivalTimestamp": 1700000000.123}
    record = kinesis_record(raw, "shardId-000000000002", "arn:aws:kinesis:eu-west-1:000000000000:stream/s",
                            "eu-west-1", "arn:aws:iam::000000000000:role/r")
    assert record["eventID"] == "shardId-000000000002:49"
    assert base64.b64decode(record["kinesis"]["data"]) == raw["Data"]
    filters = compile_filters({"FilterCriteria": {"Filters": [{"Pattern": '{"data": {"kind": ["keep"]}}'}]}})
    assert passes_kinesis_filters(filters, raw)
    assert not passes_kinesis_filters(filters, dict(raw, Data=b'{"kind": "drop"}'))
    assert not passes_kinesis_filters(filters, dict(raw, Data=b"\xff not json"))
    assert passes_kinesis_filters([], dict(raw, Data=b"\xff not json"))


def test_a_partition_key_always_lands_in_the_same_lane() -> None:
    lanes = {key: _lane(key, 10) for key in (f"k{n}" for n in range(200))}
    assert all(_lane(key, 10) == lane for key, lane in lanes.items())
    assert len(set(lanes.values())) == 10

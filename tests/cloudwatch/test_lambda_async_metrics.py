"""Lambda's asynchronous-event metrics on the engine (services/lambda_/async_invoke.py): a destination or
dead-letter queue that refuses the record loses it, as on AWS, and counts in DestinationDeliveryFailures
or DeadLetterErrors instead of running the function again; an error of ours (5xx) is retried."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventyard.protocol.errors import AwsError
from eventyard.runtime.clock import ManualClock
from tests.lambda_.test_engine import DLQ, Platform, Provider, db, due_timers, enqueue, fire_next

__all__ = ["db"]  # the database fixture, shared with the Lambda engine tests


class RefusingPlatform(Platform):
    """A platform whose SendMessage fails with `error` (a queue that is gone, or storage that is down)."""

    def __init__(self, *args: Any, error: AwsError) -> None:
        super().__init__(*args)
        self.error = error

    async def call(self, service: str, operation: str, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if operation == "SendMessage":
            raise self.error
        return await super().call(service, operation, params, **kwargs)


class DeadLettering(Provider):
    async def dead_letter_target(self, *_: Any) -> str | None:
        return DLQ


GONE = AwsError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.", 400)


@pytest.mark.parametrize(("config", "provider_class", "metric"), [
    ({"MaximumRetryAttempts": 0, "DestinationConfig": {"OnFailure": {"Destination": DLQ}}}, Provider,
     "DestinationDeliveryFailures"),
    ({"MaximumRetryAttempts": 0}, DeadLettering, "DeadLetterErrors"),
])
def test_a_refused_record_is_counted_and_dropped(db: Any, config: dict[str, Any], provider_class: type[Provider],
                                                 metric: str) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        provider = provider_class(RefusingPlatform(db, clock, error=GONE), ["error"], config)
        enqueue(db, clock)
        await fire_next(db, provider)  # the handler returns: nothing raises, so no attempt is repeated
        assert await due_timers(db) == []
        assert provider.runs == [clock.now()]
        assert provider.metrics.names == ["AsyncEventsDropped", metric]
    asyncio.run(scenario())


def test_a_success_destination_that_refuses_counts_too(db: Any) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        provider = Provider(RefusingPlatform(db, clock, error=GONE), ["ok"],
                            {"DestinationConfig": {"OnSuccess": {"Destination": DLQ}}})
        enqueue(db, clock)
        await fire_next(db, provider)
        assert provider.metrics.names == ["DestinationDeliveryFailures"]
    asyncio.run(scenario())


def test_an_error_of_ours_is_raised_for_the_timer_to_retry(db: Any) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        unavailable = AwsError("ServiceUnavailable", "storage is unavailable", 503)
        provider = Provider(RefusingPlatform(db, clock, error=unavailable), ["error"],
                            {"MaximumRetryAttempts": 0, "DestinationConfig": {"OnFailure": {"Destination": DLQ}}})
        enqueue(db, clock)
        with pytest.raises(AwsError):
            await fire_next(db, provider)
        assert provider.metrics.names == ["AsyncEventsDropped"]
    asyncio.run(scenario())

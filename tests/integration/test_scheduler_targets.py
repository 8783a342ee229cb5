"""EventBridge Scheduler firing into SQS when the clock reaches the schedule, and its DLQ."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.conftest import ServerProcess
from tests.integration.conftest import ROLE, make_queue, receive

OFF = {"Mode": "OFF"}


def _at(hours: float) -> str:
    """An at() expression `hours` from now (a fresh server's clock starts at wall-clock time)."""
    when = datetime.now(UTC) + timedelta(hours=hours)
    return f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"


def test_an_at_schedule_sends_its_input_to_sqs_when_the_clock_reaches_it(fresh_server: ServerProcess) -> None:
    scheduler, sqs = fresh_server.client("scheduler"), fresh_server.client("sqs")
    url, arn = make_queue(sqs, "reminders")
    scheduler.create_schedule(Name="remind", ScheduleExpression=_at(2), FlexibleTimeWindow=OFF,
                              Target={"Arn": arn, "RoleArn": ROLE, "Input": json.dumps({"say": "hello"})})
    assert receive(sqs, url, timeout=1.5) == []  # not yet due

    fresh_server.advance_clock(2 * 3600 + 5)
    [message] = receive(sqs, url)
    assert json.loads(message["Body"]) == {"say": "hello"}
    assert receive(sqs, url, timeout=1.5) == []  # an at() schedule fires once


def test_a_schedule_whose_target_queue_is_missing_dead_letters_the_input(fresh_server: ServerProcess) -> None:
    scheduler, sqs = fresh_server.client("scheduler"), fresh_server.client("sqs")
    dlq_url, dlq_arn = make_queue(sqs, "schedule-dlq")
    missing = "arn:aws:sqs:us-east-1:000000000000:never-created"
    schedule_arn = scheduler.create_schedule(
        Name="broken", ScheduleExpression=_at(1), FlexibleTimeWindow=OFF,
        Target={"Arn": missing, "RoleArn": ROLE, "Input": json.dumps({"n": 1}),
                "DeadLetterConfig": {"Arn": dlq_arn}, "RetryPolicy": {"MaximumRetryAttempts": 0}})["ScheduleArn"]

    fresh_server.advance_clock(3600 + 5)
    [message] = receive(sqs, dlq_url)
    assert json.loads(message["Body"]) == {"n": 1}
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes["SCHEDULE_ARN"] == schedule_arn
    assert attributes["TARGET_ARN"] == missing
    assert attributes["ERROR_CODE"] == "RESOURCE_NOT_FOUND"
    assert attributes["RETRY_ATTEMPTS"] == "0"

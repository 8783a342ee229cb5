"""The console's "next firings" of a schedule, computed by the scheduler's own engine."""

from __future__ import annotations

from datetime import UTC, datetime

from eventyard.services.scheduler.schedules import upcoming_firings


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_a_rate_schedule_fires_every_period_from_its_creation() -> None:
    doc = {"ScheduleExpression": "rate(1 hour)", "CreationDate": at("2024-05-01T10:20")}
    assert upcoming_firings(doc, at("2024-05-01T12:00"), 3) == [
        at("2024-05-01T12:20"), at("2024-05-01T13:20"), at("2024-05-01T14:20")]


def test_a_cron_schedule_follows_its_time_zone_and_stops_at_its_end_date() -> None:
    doc = {"ScheduleExpression": "cron(0 3 * * ? *)", "ScheduleExpressionTimezone": "Europe/Paris",
           "CreationDate": at("2024-01-01T00:00"), "EndDate": at("2024-07-03T00:00")}
    assert upcoming_firings(doc, at("2024-07-01T00:00"), 5) == [at("2024-07-01T01:00"), at("2024-07-02T01:00")]


def test_a_one_time_schedule_fires_once() -> None:
    doc = {"ScheduleExpression": "at(2024-05-02T08:00:00)", "CreationDate": at("2024-05-01T00:00")}
    assert upcoming_firings(doc, at("2024-05-01T00:00"), 3) == [at("2024-05-02T08:00")]
    assert upcoming_firings(doc, at("2024-05-03T00:00"), 3) == []

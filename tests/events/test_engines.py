"""Engine tests without a server: schedule expressions on fixed instants, input templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventyard.services import schedule_expressions as se
from eventyard.services.transform import MISSING, json_path, render_template


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def iso(epoch: float | None) -> str:
    assert epoch is not None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("expression, after, expected", [
    ("cron(0 12 * * ? *)", "2024-03-01T12:00", "2024-03-02T12:00"),
    ("cron(15 10 ? * 6L 2024)", "2024-03-01T00:00", "2024-03-29T10:15"),  # last Friday
    ("cron(0 8 ? * MON-FRI *)", "2024-03-01T09:00", "2024-03-04T08:00"),  # Friday -> Monday
    ("cron(0 0 L * ? *)", "2024-02-10T00:00", "2024-02-29T00:00"),  # leap February
    ("cron(0 9 15W * ? *)", "2024-06-01T00:00", "2024-06-14T09:00"),  # the 15th is a Saturday
    ("cron(0/15 * * * ? *)", "2024-01-01T10:07", "2024-01-01T10:15"),
    ("cron(0 10 ? * 2#1 *)", "2024-01-01T11:00", "2024-02-05T10:00"),  # first Monday
])
def test_cron_expressions_fire_at_aws_documented_times(expression: str, after: str, expected: str) -> None:
    parsed = se.parse(expression)
    assert iso(se.next_firing(parsed, at(after), at(after))) == expected


def test_cron_honours_time_zones() -> None:
    parsed = se.parse("cron(0 9 * * ? *)")
    assert iso(se.next_firing(parsed, at("2024-07-01T00:00"), 0, "Europe/Paris")) == "2024-07-01T07:00"


def test_rates_count_from_their_anchor() -> None:
    rate = se.parse("rate(5 minutes)")
    assert se.next_firing(rate, 699.0, 700.0) == 700.0
    assert se.next_firing(rate, 1000.0, 700.0) == 1300.0
    assert se.next_firing(rate, 1001.0, 700.0) == 1300.0


@pytest.mark.parametrize("bad", ["rate(1 minutes)", "rate(2 minute)", "rate(0 hours)", "cron(0 12 * * * *)",
                                 "cron(0 12 * *)", "cron(61 * * * ? *)", "at(2024-01-01T00:00:00)", "every day"])
def test_invalid_expressions_are_refused(bad: str) -> None:
    with pytest.raises(se.InvalidExpression):
        se.parse(bad)


def test_at_expressions_fire_once_in_their_zone() -> None:
    once = se.parse("at(2030-01-01T10:00:00)", allow_at=True)
    assert iso(se.next_firing(once, at("2029-12-31T00:00"), 0, "America/New_York")) == "2030-01-01T15:00"
    assert se.next_firing(once, at("2030-01-02T00:00"), 0) is None


def test_json_paths_select_values_indices_and_wildcards() -> None:
    event = {"detail": {"a": [{"b": 1}, {"b": 2}], "c-d": "x"}}
    assert json_path(event, "$.detail.a[1].b") == 2
    assert json_path(event, "$.detail.c-d") == "x"
    assert json_path(event, "$.detail.a[*].b") == [1, 2]
    assert json_path(event, "$.detail.missing") is MISSING


def test_templates_quote_values_by_where_the_placeholder_sits() -> None:
    values = {"s": "he said \"hi\"", "n": 2, "o": {"k": [1]}, "m": MISSING}
    rendered = render_template('{"a": <s>, "b": "<s>!", "c": <n>, "d": <o>, "e": <m>, "f": "<m>"}', values)
    assert rendered == '{"a": "he said \\"hi\\"", "b": "he said \\"hi\\"!", "c": 2, "d": {"k": [1]}, "e": null, "f": ""}'
    assert render_template("<n> items for <s>", values) == '2 items for he said \\"hi\\"'

"""The shared conformance corpus (recorded against AWS and aws/event-ruler) through boto3's
TestEventPattern against the live server. The corpus lives outside the repository."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance import conformance_dir

DEFAULT_EVENT = json.dumps({"id": "1", "source": "test-source", "detail-type": "test-detail-type",
                            "account": "123456789012", "region": "us-east-1", "time": "2022-07-13T13:48:01Z",
                            "resources": [], "detail": {}})


def cases(name: str) -> list[dict[str, Any]]:
    path = conformance_dir() / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def outcome(events: Any, pattern: str, event: str) -> tuple[str, str | None]:
    try:
        return ("match" if events.test_event_pattern(EventPattern=pattern, Event=event)["Result"] else "no_match"), None
    except ClientError as error:
        return "error", error.response["Error"]["Code"]


@pytest.mark.parametrize("name", ["eventbridge-patterns.aws.jsonl", "event-ruler-matches.jsonl"])
def test_test_event_pattern_agrees_with_recorded_outcomes(events: Any, name: str) -> None:
    failures = []
    for case in cases(name):
        event = case.get("api_event", case["event"]) if "api_event" in case else case["event"]
        if event is None:
            continue  # no envelope-carrying form of this event can exist
        got, code = outcome(events, case["pattern"], event)
        if got != case["expected"] or (got == "error" and case.get("error_code") and code != case["error_code"]):
            failures.append((case["id"], case["expected"], got, code))
    assert failures == []


def test_pattern_validity_agrees_with_event_ruler(events: Any) -> None:
    failures = []
    for case in cases("event-ruler-validity.jsonl"):
        got, code = outcome(events, case["pattern"], DEFAULT_EVENT)
        verdict = "error" if got == "error" else "valid"
        if verdict != case["expected"] or (verdict == "error" and code != "InvalidEventPatternException"):
            failures.append((case["id"], case["expected"], verdict, code))
    assert failures == []

"""Every recorded case in ../shared/conformance passes in-process (outcome and AWS message)."""

from __future__ import annotations

import json

from eventyard.patterns import InvalidEvent, InvalidPattern
from eventyard.patterns.conformance import matches, matches_library
from tests.conformance import conformance_dir

DEFAULT_EVENT = json.dumps({"id": "1", "source": "test-source", "detail-type": "test-detail-type",
                            "account": "123456789012", "region": "us-east-1",
                            "time": "2022-07-13T13:48:01Z", "resources": [], "detail": {}})

def _cases(name: str) -> list[dict]:
    with open(conformance_dir() / name) as f:
        return [json.loads(line) for line in f if line.strip()]


def _outcome(func, pattern: str, event: str) -> tuple[str, str | None]:
    try:
        return ("match" if func(pattern, event) else "no_match"), None
    except InvalidPattern as e:
        # The recorded messages leave out the parser position AWS appends (tested elsewhere).
        return "error", e.full_message.removesuffix(e.location)
    except InvalidEvent as e:
        return "error", e.message


def test_every_recorded_aws_test_event_pattern_case_gives_aws_outcome_and_message():
    failures = []
    for case in _cases("eventbridge-patterns.aws.jsonl"):
        got, message = _outcome(matches, case["pattern"], case["event"])
        if got != case["expected"] or (got == "error" and message != case["error_message"]):
            failures.append((case["id"], case["expected"], got, message))
    assert failures == []


def test_every_event_ruler_match_case_gives_the_libraries_outcome():
    failures = []
    for case in _cases("event-ruler-matches.jsonl"):
        got, message = _outcome(matches_library, case["pattern"], case["event"])
        if got != case["expected"]:
            failures.append((case["id"], case["expected"], got, message))
    assert failures == []


def test_event_ruler_cases_with_an_envelope_match_the_same_through_the_api_entry_point():
    failures = []
    for case in _cases("event-ruler-matches.jsonl"):
        if case.get("api_event") is None:
            continue
        got, message = _outcome(matches, case["pattern"], case["api_event"])
        if got != case["expected"]:
            failures.append((case["id"], case["expected"], got, message))
    assert failures == []


def test_every_event_ruler_validity_case_is_accepted_or_rejected_as_recorded():
    failures = []
    for case in _cases("event-ruler-validity.jsonl"):
        got, message = _outcome(matches, case["pattern"], DEFAULT_EVENT)
        got = "error" if got == "error" else "valid"
        if got != case["expected"]:
            failures.append((case["id"], case["expected"], got, message))
    assert failures == []

"""The filter pattern engine: every syntax AWS documents, what each extracts, and what it refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard.protocol.errors import AwsError
from eventyard.services.logs.filter_patterns import compile_filter_pattern
from eventyard.services.logs.metric_filters import ActiveFilter, matched_messages, points

APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534'


def matches(pattern: str, message: str) -> bool:
    return compile_filter_pattern(pattern).matches(message)


def test_terms_quoted_terms_exclusions_and_any_of() -> None:
    assert matches("ERROR", "[ERROR] disk full")
    assert not matches("error", "[ERROR] disk full")  # case-sensitive
    assert matches("ERROR disk", "[ERROR] disk full") and not matches("ERROR net", "[ERROR] disk full")
    assert matches('"disk full"', "[ERROR] disk full") and not matches('"full disk"', "[ERROR] disk full")
    assert matches("?WARN ?ERROR", "[ERROR] x") and matches("?WARN ?ERROR", "WARN y")
    assert not matches("?WARN ?ERROR", "INFO z")
    assert matches("ERROR -disk", "[ERROR] network") and not matches("ERROR -disk", "[ERROR] disk")
    assert matches('ERROR -"disk full"', "[ERROR] disk is full") and not matches('ERROR -"disk full"', "ERROR disk full")
    assert matches("", "anything") and matches('""', "anything")


def test_json_patterns_with_regex_values() -> None:
    event = json.dumps({"level": "ERROR", "latency": 700, "msg": "timeout talking to db-7"})
    assert matches('{ $.level = "ERROR" && $.latency > 500 }', event)
    assert matches("{ $.msg = %db-[0-9]% }", event) and not matches("{ $.msg != %db-[0-9]% }", event)
    assert not matches("{ $.level = %^WARN% }", event)
    found = compile_filter_pattern("{ $.latency > 500 }").match(event)
    assert found is not None and found.values == {"$.latency": "700"} and found.value_of("$.msg") == "timeout talking to db-7"
    assert not matches("{ $.latency > 500 }", "not json")


def test_space_delimited_patterns_extract_fields() -> None:
    found = compile_filter_pattern("[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]").match(APACHE)
    assert found is not None and found.values == {
        "$ip": "127.0.0.1", "$user": "-", "$username": "frank", "$timestamp": "10/Oct/2000:13:25:15 -0700",
        "$request": "GET /apache_pb.gif HTTP/1.0", "$status_code": "404", "$bytes": "1534"}
    assert matches("[ip, user, ..., status_code = 4* || status_code = 5*, bytes]", APACHE)
    assert matches("[ip, ..., status_code != 200, bytes]", APACHE)
    assert matches("[ip, ..., status_code = 404 && bytes >= 1534, bytes]", APACHE)
    assert not matches("[ip, ..., bytes < 1000]", APACHE)
    assert matches('[..., request = "GET *", status, size]', APACHE)
    assert matches("[..., status = %40[0-9]%, size]", APACHE)
    assert not matches("[ip, user, bytes]", APACHE)  # without `...` every field needs a column
    assert matches("[w1 = ERROR, w2]", "ERROR disk") and not matches("[w1 = ERROR, w2]", "ERROR disk full")


def test_regex_patterns() -> None:
    assert matches("%ERROR|WARN%", "a WARN b") and not matches("%ERROR|WARN%", "info")
    assert matches("%^[0-9]{3} %", "404 not found") and not matches("%^[0-9]{3} %", "x404 not found")


@pytest.mark.parametrize("pattern", [
    "{ $.level = }", "[a, a]", "[a = ]", "[a, b || c = 1]", '"unterminated', "%a(b)%", "%multi-byte é%",
    "[a = %x%, b = %y%, c = %z%]", "{ $.a > \"text\" }", "[a > text]",
])
def test_invalid_patterns_are_refused_in_the_callers_words(pattern: str) -> None:
    with pytest.raises(AwsError) as caught:
        compile_filter_pattern(pattern, "Invalid metric filter pattern")
    assert caught.value.code == "InvalidParameterException"
    assert caught.value.message == "Invalid metric filter pattern"


def test_test_metric_filter_numbers_matches_from_one() -> None:
    found = matched_messages("[ip, user, ..., status, size]", ["nope", APACHE])
    assert found == [{"eventNumber": 2, "eventMessage": APACHE, "extractedValues": {
        "$ip": "127.0.0.1", "$user": "-", "$status": "404", "$size": "1534"}}]


def test_metric_points_take_values_dimensions_and_defaults() -> None:
    transformation = {"metricNamespace": "App", "metricName": "Bytes", "metricValue": "$size", "unit": "Bytes",
                      "dimensions": {"Status": "$status"}}
    active = ActiveFilter.from_row("[ip, ..., status, size]", json.dumps([transformation]))
    made = points([active], "1", "r", [(60_000, APACHE), (61_000, APACHE.replace("404 1534", "200 10"))])
    by_dimensions = {p.series.dimensions: (p.period_start, p.unit, p.aggregate.total) for p in made}
    assert by_dimensions == {(("Status", "404"),): (60.0, "Bytes", 1534.0), (("Status", "200"),): (60.0, "Bytes", 10.0)}
    counted = ActiveFilter.from_row("ERROR", json.dumps([{"metricNamespace": "App", "metricName": "Errors",
                                                          "metricValue": "1", "defaultValue": 0}]))
    made = points([counted], "1", "r", [(0, "ERROR a"), (1_000, "ERROR b"), (60_000, "fine"), (61_000, "fine")])
    assert sorted((p.period_start, p.aggregate.sample_count, p.aggregate.total) for p in made) == [
        (0.0, 2.0, 2.0), (60.0, 1.0, 0.0)]


@given(st.lists(st.text(alphabet="abc xyz", min_size=1, max_size=6), min_size=1, max_size=4),
       st.text(alphabet="abc xyz", max_size=30))
def test_terms_match_exactly_when_every_term_occurs(terms: list[str], message: str) -> None:
    words = [t.strip() for t in terms if t.strip()]
    if not words:
        return
    pattern = " ".join(f'"{w}"' for w in words)
    assert matches(pattern, message) == all(w in message for w in words)
    any_of = " ".join(f'?"{w}"' for w in words)
    assert matches(any_of, message) == any(w in message for w in words)

"""The Logs Insights parser and evaluator, without a server: each command, the functions people use
most, result columns as AWS names them, and syntax errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventyard.protocol.errors import AwsError
from eventyard.services.logs.insights.evaluator import run
from eventyard.services.logs.insights.functions import as_text
from eventyard.services.logs.insights.parser import parse_query
from eventyard.services.logs.insights.records import event_id_of, pointer, record

BASE = 1_700_000_040_000  # 2023-11-14 22:14:00 UTC
REPORT = ("REPORT RequestId: 0f2c\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
          "Max Memory Used: 40 MB\tInit Duration: 100.25 ms")


def events() -> list[dict[str, Any]]:
    made = []
    for n in range(10):
        message = json.dumps({"level": "ERROR" if n % 3 == 0 else "INFO", "latency": n * 10,
                              "user": {"id": f"u{n % 2}"}, "tags": ["a", "b"]})
        made.append(record(n, BASE + n * 60_000, BASE, message, "web-1", "000000000000:/app"))
    made.append(record(10, BASE, BASE, "user=bob action=login status=200", "web-2", "000000000000:/app"))
    made.append(record(11, BASE, BASE, REPORT, "web-2", "000000000000:/app"))
    made.sort(key=lambda r: (-r["@timestamp"], -int(event_id_of(r["@ptr"]) or 0)))  # the runner reads newest first
    return made


def table(query: str, limit: int = 10_000) -> tuple[list[str], list[dict[str, str]], int]:
    outcome = run(parse_query(query), events(), limit)
    rows = [{name: as_text(r[name]) for name in outcome.columns if r.get(name) is not None} for r in outcome.rows]
    return outcome.columns, rows, outcome.matched


def test_fields_filter_sort_and_limit() -> None:
    columns, rows, matched = table("fields @timestamp, level, latency | filter latency >= 50 | sort latency desc"
                                   " | limit 2")
    assert columns == ["@timestamp", "level", "latency"] and matched == 5
    assert rows == [{"@timestamp": "2023-11-14 22:23:00.000", "level": "ERROR", "latency": "90"},
                    {"@timestamp": "2023-11-14 22:22:00.000", "level": "INFO", "latency": "80"}]


def test_without_fields_the_system_fields_are_shown_newest_first() -> None:
    columns, rows, _ = table("filter level = 'ERROR' | head 1")
    assert columns == ["@timestamp", "@message", "@logStream", "@log"]
    assert rows[0]["@logStream"] == "web-1" and rows[0]["@log"] == "000000000000:/app"
    assert json.loads(rows[0]["@message"])["latency"] == 90


def test_stats_by_fields_and_bins_name_columns_after_expressions() -> None:
    columns, rows, matched = table("filter ispresent(level) | stats count(*) as n, avg(latency), max(latency),"
                                   " pct(latency, 50) by level | sort n desc")
    assert columns == ["level", "n", "avg(latency)", "max(latency)", "pct(latency, 50)"] and matched == 10
    assert rows == [{"level": "INFO", "n": "6", "avg(latency)": "45", "max(latency)": "80", "pct(latency, 50)": "40"},
                    {"level": "ERROR", "n": "4", "avg(latency)": "45", "max(latency)": "90", "pct(latency, 50)": "30"}]
    columns, rows, _ = table("stats count(*) by bin(5m) | sort bin(5m) asc")
    assert columns == ["bin(5m)", "count(*)"]
    assert rows == [{"bin(5m)": "2023-11-14 22:10:00.000", "count(*)": "3"},
                    {"bin(5m)": "2023-11-14 22:15:00.000", "count(*)": "5"},
                    {"bin(5m)": "2023-11-14 22:20:00.000", "count(*)": "4"}]


def test_filters_with_like_regex_in_and_boolean_logic() -> None:
    def latencies(condition: str) -> list[str]:
        return [r["latency"] for r in table(f"filter {condition} | fields latency | sort latency asc")[1]]

    assert latencies('level in ["ERROR"] and user.id = "u0"') == ["0", "60"]
    assert latencies("level not in ['INFO'] and not (latency > 50)") == ["0", "30"]
    assert latencies("@message like /\"latency\": [89]0/") == ["80", "90"]
    assert latencies("@message like 'ERROR' and latency / 10 > 5") == ["60", "90"]
    assert latencies("level =~ /^inf/i and latency < 30") == ["10", "20"]
    assert latencies("@message not like /ERROR|INFO/ and ispresent(latency)") == []
    assert len(table("filter @message not like /ERROR|INFO/")[1]) == 2  # the login line and the REPORT line
    assert latencies("tags.1 = 'b' and latency <= 10") == ["0", "10"]


def test_parse_with_a_glob_and_with_a_regex() -> None:
    columns, rows, _ = table('parse @message "user=* action=* status=*" as who, what, status | filter status = 200'
                             " | display who, what")
    assert columns == ["who", "what"] and rows == [{"who": "bob", "what": "login"}]
    _, rows, _ = table("parse @message /user=(?<who>[a-z]+) action=(?<what>\\w+)/ | filter ispresent(who)"
                       " | fields concat(who, ':', what) as pair, strlen(who) as n")
    assert rows == [{"pair": "bob:login", "n": "3"}]


def test_lambda_report_lines_have_their_fields() -> None:
    _, rows, _ = table('filter @type = "REPORT" | stats avg(@duration) as duration, max(@maxMemoryUsed / 1000 / 1000)'
                       " as memory, max(@initDuration) as init")
    assert rows == [{"duration": "12.5", "memory": "40", "init": "100.25"}]


def test_dedup_and_stats_over_stats() -> None:
    _, rows, _ = table("filter ispresent(level) | dedup level | fields level")
    assert sorted(r["level"] for r in rows) == ["ERROR", "INFO"]
    _, rows, _ = table("filter ispresent(level) | stats count(*) as n by level, user.id | stats sum(n) as total")
    assert rows == [{"total": "10"}]
    _, rows, _ = table("stats count_distinct(user.id) as users, earliest(latency) as first, latest(latency) as last")
    assert rows == [{"users": "2", "first": "0", "last": "90"}]


def test_the_result_limit_caps_rows() -> None:
    assert len(table("fields @timestamp", limit=3)[1]) == 3


def test_pointers_round_trip() -> None:
    assert event_id_of(pointer(123456)) == 123456 and event_id_of("not a pointer!") is None


@pytest.mark.parametrize(("query", "message"), [
    ("fields", "mismatched input '<EOF>'"),
    ("sort x | bogus", "mismatched input 'bogus' expecting {DEDUP, DISPLAY, FIELDS, FILTER, HEAD, LIMIT, PARSE,"
                       " SORT, STATS} at line 1 and position 10"),
    ("stats latency by level", "stats needs an aggregation function: latency"),
    ("fields nosuch(x)", "unknown function: nosuch"),
    ("filter count(*) > 1", "count is an aggregation function: use it in stats"),
    ("limit 0", "limit must be between 1 and 10000"),
    ('parse @message "a=*" as x, y', "parse: the pattern has 1 wildcards for 2 fields"),
    ("stats count(*) by bin(x)", "bin takes one time period, such as bin(5m)"),
])
def test_malformed_queries(query: str, message: str) -> None:
    with pytest.raises(AwsError) as caught:
        parse_query(query)
    assert caught.value.code == "MalformedQueryException" and caught.value.message.startswith(message)

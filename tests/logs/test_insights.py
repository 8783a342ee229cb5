"""Logs Insights through boto3: StartQuery -> GetQueryResults until Complete, stats by bin(), parse,
sort/limit, statistics, StopQuery, DescribeQueries, GetLogRecord, and the errors AWS gives."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
# A day ago at minute 14 of its hour: PutLogEvents keeps only events of the last 14 days.
BASE_MS = (int(time.time() * 1000) - 24 * HOUR_MS) // HOUR_MS * HOUR_MS + 14 * MINUTE_MS


def at(ms: int) -> str:
    """A time as Logs Insights prints it."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.000")


@pytest.fixture
def app_group(server: ServerProcess, unique: str) -> str:
    logs = server.client("logs")
    group = f"/insights/{unique}"
    logs.create_log_group(logGroupName=group)
    for stream in ("api", "worker"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName="api", logEvents=[
        {"timestamp": BASE_MS + n * MINUTE_MS, "message": json.dumps(
            {"route": "/orders" if n % 2 else "/health", "status": 500 if n % 4 == 1 else 200, "ms": 10 * (n + 1)})}
        for n in range(8)])
    logs.put_log_events(logGroupName=group, logStreamName="worker", logEvents=[
        {"timestamp": BASE_MS + n * MINUTE_MS, "message": f"job={n} user=u{n % 3} took {n * 100}ms"}
        for n in range(6)])
    return group


def query(logs: Any, group: str, text: str, **kwargs: Any) -> dict[str, Any]:
    query_id = logs.start_query(logGroupName=group, startTime=BASE_MS // 1000 - 60,
                                endTime=BASE_MS // 1000 + 3600, queryString=text, **kwargs)["queryId"]
    deadline = time.monotonic() + 30
    while True:
        answer = logs.get_query_results(queryId=query_id)
        assert answer["status"] in {"Scheduled", "Running", "Complete"}, answer
        if answer["status"] == "Complete":
            return {**answer, "queryId": query_id}
        assert time.monotonic() < deadline, "the query did not complete"
        time.sleep(0.05)


def rows(answer: dict[str, Any]) -> list[dict[str, str]]:
    return [{f["field"]: f["value"] for f in row if f["field"] != "@ptr"} for row in answer["results"]]


def test_stats_by_bin_and_field_with_statistics(server: ServerProcess, app_group: str) -> None:
    answer = query(server.client("logs"), app_group,
                   "filter ispresent(status) | stats count(*) as requests, avg(ms) as mean by bin(5m) | sort bin(5m)")
    assert rows(answer) == [{"bin(5m)": at(BASE_MS - 4 * MINUTE_MS), "requests": "1", "mean": "10"},
                            {"bin(5m)": at(BASE_MS + MINUTE_MS), "requests": "5", "mean": "40"},
                            {"bin(5m)": at(BASE_MS + 6 * MINUTE_MS), "requests": "2", "mean": "75"}]
    assert answer["statistics"]["recordsMatched"] == 8.0 and answer["statistics"]["recordsScanned"] == 14.0
    assert answer["statistics"]["bytesScanned"] > 0
    errors = query(server.client("logs"), app_group,
                   "filter status >= 500 | stats count(*) as errors by route")
    assert rows(errors) == [{"route": "/orders", "errors": "2"}]


def test_parse_sort_and_limit(server: ServerProcess, app_group: str) -> None:
    answer = query(server.client("logs"), app_group,
                   'parse @message "job=* user=* took *ms" as job, user, took | filter ispresent(job)'
                   " | sort took desc | limit 3 | fields job, user, took")
    assert rows(answer) == [{"job": "5", "user": "u2", "took": "500"}, {"job": "4", "user": "u1", "took": "400"},
                            {"job": "3", "user": "u0", "took": "300"}]
    assert answer["statistics"]["recordsMatched"] == 6.0
    regex = query(server.client("logs"), app_group,
                  "parse @message /user=(?<who>u\\d)/ | filter ispresent(who) | stats count(*) as jobs by who"
                  " | sort jobs desc, who asc")
    assert rows(regex) == [{"who": "u0", "jobs": "2"}, {"who": "u1", "jobs": "2"}, {"who": "u2", "jobs": "2"}]


def test_default_fields_pointers_and_log_records(server: ServerProcess, app_group: str) -> None:
    logs = server.client("logs")
    answer = query(logs, app_group, "filter @logStream = 'worker' | limit 2", limit=5)
    assert [[f["field"] for f in row] for row in answer["results"]] == [
        ["@timestamp", "@message", "@logStream", "@log", "@ptr"]] * 2
    first = {f["field"]: f["value"] for f in answer["results"][0]}
    assert first["@message"] == "job=5 user=u2 took 500ms" and first["@log"] == f"000000000000:{app_group}"
    assert first["@timestamp"] == at(BASE_MS + 5 * MINUTE_MS)
    record = logs.get_log_record(logRecordPointer=first["@ptr"])["logRecord"]
    assert record["@message"] == first["@message"] and record["@logStream"] == "worker"
    capped = query(logs, app_group, "fields @message", limit=4)
    assert len(capped["results"]) == 4


def test_queries_are_described_and_stopped(server: ServerProcess, app_group: str) -> None:
    logs = server.client("logs")
    done = query(logs, app_group, "stats count(*)")
    described = logs.describe_queries(logGroupName=app_group)["queries"]
    mine = next(q for q in described if q["queryId"] == done["queryId"])
    # AWS stores the query behind its source and time range, in milliseconds (the end's last one included)
    start, end = BASE_MS // 1000 - 60, BASE_MS // 1000 + 3600
    assert mine["status"] == "Complete"
    assert mine["queryString"] == f'SOURCE "{app_group}" START={start}000 END={end}999 | stats count(*)'
    assert mine["logGroupName"] == app_group and mine["queryLanguage"] == "CWLI"
    assert all(q["status"] == "Complete" for q in logs.describe_queries(status="Complete")["queries"])
    with pytest.raises(ClientError) as caught:  # a finished query cannot be stopped
        logs.stop_query(queryId=done["queryId"])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        logs.get_query_results(queryId="00000000-0000-0000-0000-000000000000")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_bad_queries_get_aws_errors(server: ServerProcess, app_group: str, unique: str) -> None:
    logs = server.client("logs")

    def error(**kwargs: Any) -> dict[str, str]:
        params = {"logGroupName": app_group, "startTime": 0, "endTime": 10, "queryString": "fields @message", **kwargs}
        with pytest.raises(ClientError) as caught:
            logs.start_query(**{k: v for k, v in params.items() if v is not None})
        return {k: caught.value.response["Error"][k] for k in ("Code", "Message")}

    assert error(queryString="fields @message | bogus")["Code"] == "MalformedQueryException"
    with pytest.raises(ClientError) as caught:  # the refusal names its request, in the Java SDK's words
        logs.start_query(logGroupName=f"/none/{unique}", startTime=0, endTime=10, queryString="fields @message")
    request_id = caught.value.response["ResponseMetadata"]["RequestId"]
    assert caught.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": f"Log group '/none/{unique}' does not exist for account ID '000000000000' (Service: AWSLogs; "
        f"Status Code: 400; Error Code: ResourceNotFoundException; Request ID: {request_id}; Proxy: null)"}
    assert error(logGroupName=None)["Code"] == "InvalidParameterException"

"""Metric filters through boto3: CRUD, TestMetricFilter for each syntax, metrics from fields, and an
alarm on a metric filter that goes to ALARM when matching log lines arrive (on the server's clock)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudwatch.conftest import server_now, wait_for
from tests.conftest import ServerProcess

APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534'


def _group(logs: Any, name: str) -> None:
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")


def test_metric_filters_are_put_described_and_deleted(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    group = f"/mf/{unique}"
    _group(logs, group)
    transformation = {"metricName": "Errors", "metricNamespace": f"App{unique}", "metricValue": "1",
                      "defaultValue": 0.0}
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR",
                           metricTransformations=[transformation])
    logs.put_metric_filter(logGroupName=group, filterName="latency", filterPattern="{ $.latency > 0 }",
                           metricTransformations=[{"metricName": "Latency", "metricNamespace": f"App{unique}",
                                                   "metricValue": "$.latency", "unit": "Milliseconds",
                                                   "dimensions": {"Route": "$.route"}}])
    described = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in described] == ["errors", "latency"]
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["metricFilterCount"] == 2
    assert described[0]["metricTransformations"] == [transformation]
    assert described[0]["logGroupName"] == group and described[0]["filterPattern"] == "ERROR"
    assert isinstance(described[0]["creationTime"], int)
    by_metric = logs.describe_metric_filters(metricName="Latency", metricNamespace=f"App{unique}")["metricFilters"]
    assert [f["filterName"] for f in by_metric] == ["latency"]
    assert [f["filterName"] for f in logs.describe_metric_filters(
        logGroupName=group, filterNamePrefix="lat")["metricFilters"]] == ["latency"]
    page = logs.describe_metric_filters(logGroupName=group, limit=1)
    assert len(page["metricFilters"]) == 1 and page["nextToken"]
    rest = logs.describe_metric_filters(logGroupName=group, limit=1, nextToken=page["nextToken"])
    assert [f["filterName"] for f in rest["metricFilters"]] == ["latency"] and "nextToken" not in rest
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="?ERROR ?FATAL",
                           metricTransformations=[transformation])  # an update keeps one filter
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"][0]["filterPattern"] == "?ERROR ?FATAL"
    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]] == ["latency"]
    with pytest.raises(ClientError) as caught:
        logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(("pattern", "spec", "message"), [
    ("{ $.a = }", {}, "Invalid metric filter pattern"),
    ("ERROR", {"dimensions": {"Level": "$level"}}, "The specified filter pattern does not support dimensions"),
])
def test_bad_metric_filters_are_refused(server: ServerProcess, unique: str, pattern: str, spec: dict[str, Any],
                                        message: str) -> None:
    logs = server.client("logs")
    group = f"/mf-bad/{unique}"
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as caught:
        logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern=pattern, metricTransformations=[
            {"metricName": "M", "metricNamespace": "N", "metricValue": "1", **spec}])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert caught.value.response["Error"]["Message"] == message
    with pytest.raises(ClientError) as caught:
        logs.put_metric_filter(logGroupName=f"/missing/{unique}", filterName="f", filterPattern="", metricTransformations=[
            {"metricName": "M", "metricNamespace": "N", "metricValue": "1"}])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(("pattern", "expected"), [
    ("ERROR", [(1, {})]),
    ('"disk full" -retry', [(1, {})]),
    ("?WARN ?ERROR", [(1, {}), (2, {})]),
    ('{ $.level = "WARN" && $.ms >= 100 }', [(2, {"$.level": "WARN", "$.ms": "150"})]),
    ("%W[A-Z]+N%", [(2, {})]),
    ("[ip, user, ..., status = 4*, bytes > 1000]", [(3, {"$ip": "127.0.0.1", "$user": "-", "$status": "404",
                                                         "$bytes": "1534"})]),
])
def test_test_metric_filter_answers_each_syntax(server: ServerProcess, pattern: str,
                                                expected: list[tuple[int, dict[str, str]]]) -> None:
    messages = ["ERROR disk full", json.dumps({"level": "WARN", "ms": 150}), APACHE]
    matches = server.client("logs").test_metric_filter(filterPattern=pattern, logEventMessages=messages)["matches"]
    assert [(m["eventNumber"], m["extractedValues"]) for m in matches] == expected
    assert [m["eventMessage"] for m in matches] == [messages[n - 1] for n, _ in expected]


def test_metric_values_and_dimensions_come_from_fields(server: ServerProcess, unique: str) -> None:
    logs, cw = server.client("logs"), server.client("cloudwatch")
    group, namespace = f"/mf-fields/{unique}", f"Web{unique}"
    _group(logs, group)
    logs.put_metric_filter(logGroupName=group, filterName="latency", filterPattern='{ $.route = "*" }',
                           metricTransformations=[{"metricName": "Latency", "metricNamespace": namespace,
                                                   "metricValue": "$.latency", "unit": "Milliseconds",
                                                   "dimensions": {"Route": "$.route"}}])
    logs.put_metric_filter(logGroupName=group, filterName="bytes", filterPattern="[ip, user, ..., status, size]",
                           metricTransformations=[{"metricName": "Bytes", "metricNamespace": namespace,
                                                   "metricValue": "$size", "unit": "Bytes"}])
    now = server_now(server)
    stamp = int(now * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": stamp, "message": json.dumps({"route": "/a", "latency": 120})},
        {"timestamp": stamp, "message": json.dumps({"route": "/a", "latency": 80})},
        {"timestamp": stamp, "message": json.dumps({"route": "/b", "latency": 10})},
        {"timestamp": stamp, "message": APACHE}])
    start, end = now - 120, now + 120
    stats = cw.get_metric_statistics(Namespace=namespace, MetricName="Latency", StartTime=start, EndTime=end,
                                     Period=60, Statistics=["Sum", "SampleCount", "Maximum"],
                                     Dimensions=[{"Name": "Route", "Value": "/a"}])["Datapoints"]
    assert [(d["Sum"], d["SampleCount"], d["Maximum"], d["Unit"]) for d in stats] == [(200.0, 2.0, 120.0, "Milliseconds")]
    size = cw.get_metric_statistics(Namespace=namespace, MetricName="Bytes", StartTime=start, EndTime=end,
                                    Period=60, Statistics=["Sum"])["Datapoints"]
    assert [(d["Sum"], d["Unit"]) for d in size] == [(1534.0, "Bytes")]
    listed = cw.list_metrics(Namespace=namespace, MetricName="Latency")["Metrics"]
    assert sorted(m["Dimensions"][0]["Value"] for m in listed) == ["/a", "/b"]


def test_an_alarm_on_a_metric_filter_goes_to_alarm_when_matching_lines_arrive(fresh_server: ServerProcess) -> None:
    logs, cw = fresh_server.client("logs"), fresh_server.client("cloudwatch")
    _group(logs, "/app/orders")
    logs.put_metric_filter(logGroupName="/app/orders", filterName="errors", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "OrderErrors", "metricNamespace": "Orders",
                                                   "metricValue": "1", "defaultValue": 0.0}])
    cw.put_metric_alarm(AlarmName="order-errors", Namespace="Orders", MetricName="OrderErrors", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=2.0, ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="notBreaching")

    def state() -> str:
        return str(cw.describe_alarms(AlarmNames=["order-errors"])["MetricAlarms"][0]["StateValue"])

    stamp = int(server_now(fresh_server) * 1000)
    logs.put_log_events(logGroupName="/app/orders", logStreamName="s", logEvents=[
        {"timestamp": stamp, "message": "INFO order 1 placed"}, {"timestamp": stamp, "message": "ERROR order 2"}])
    fresh_server.advance_clock(60)
    wait_for(lambda: state() == "OK", message="the alarm OK with one error")
    stamp = int(server_now(fresh_server) * 1000)
    logs.put_log_events(logGroupName="/app/orders", logStreamName="s", logEvents=[
        {"timestamp": stamp, "message": f"ERROR order {n} failed"} for n in range(3)])
    fresh_server.advance_clock(60)
    wait_for(lambda: state() == "ALARM", message="the alarm in ALARM after three errors in a minute")
    reason = cw.describe_alarms(AlarmNames=["order-errors"])["MetricAlarms"][0]["StateReason"]
    assert reason.startswith("Threshold Crossed: 1 datapoint [3.0 (")

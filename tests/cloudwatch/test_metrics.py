"""Metrics through real clients: PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics, over
each of CloudWatch's three protocols (JSON 1.0, query, RPC v2 CBOR)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess


def _dims(value: str) -> list[dict[str, str]]:
    return [{"Name": "Service", "Value": value}]


def test_values_with_counts_give_statistics_and_percentiles(cloudwatch: Any, unique: str) -> None:
    now = time.time()
    cloudwatch.put_metric_data(Namespace=f"App/{unique}", MetricData=[
        {"MetricName": "Latency", "Dimensions": _dims("api"), "Values": [10.0, 20.0, 500.0], "Counts": [50, 45, 5],
         "Unit": "Milliseconds", "Timestamp": now}])
    points = cloudwatch.get_metric_statistics(
        Namespace=f"App/{unique}", MetricName="Latency", Dimensions=_dims("api"), StartTime=now - 300,
        EndTime=now + 60, Period=60, Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"])["Datapoints"]
    assert len(points) == 1
    point = points[0]
    assert (point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"]) == (100.0, 3900.0, 10.0, 500.0)
    assert point["Average"] == 39.0 and point["Unit"] == "Milliseconds"
    extended = cloudwatch.get_metric_statistics(
        Namespace=f"App/{unique}", MetricName="Latency", Dimensions=_dims("api"), StartTime=now - 300,
        EndTime=now + 60, Period=60, ExtendedStatistics=["p50", "p99"])["Datapoints"][0]["ExtendedStatistics"]
    assert extended["p50"] == pytest.approx(10.0, rel=0.01)
    assert extended["p99"] == pytest.approx(500.0, rel=0.01)


def test_list_metrics_filters_by_namespace_name_and_dimensions(cloudwatch: Any, unique: str) -> None:
    namespace = f"Shop/{unique}"
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Orders", "Dimensions": _dims("web"), "Value": 1},
        {"MetricName": "Orders", "Dimensions": _dims("mobile"), "Value": 2},
        {"MetricName": "Refunds", "Dimensions": _dims("web") + [{"Name": "Region", "Value": "eu"}], "Value": 1}])
    everything = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert len(everything) == 3
    web = cloudwatch.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Service", "Value": "web"}])["Metrics"]
    assert sorted(m["MetricName"] for m in web) == ["Orders", "Refunds"]
    any_region = cloudwatch.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Region"}])["Metrics"]
    assert [m["MetricName"] for m in any_region] == ["Refunds"]
    orders = cloudwatch.list_metrics(Namespace=namespace, MetricName="Orders", RecentlyActive="PT3H")["Metrics"]
    assert {m["Dimensions"][0]["Value"] for m in orders} == {"web", "mobile"}


def test_get_metric_data_runs_metric_math_in_either_order(cloudwatch: Any, unique: str) -> None:
    namespace = f"Math/{unique}"
    start = (time.time() // 60) * 60 - 240
    data = []
    for minute in range(4):
        data.append({"MetricName": "Errors", "Value": float(minute), "Timestamp": start + minute * 60})
        data.append({"MetricName": "Requests", "Value": 10.0, "Timestamp": start + minute * 60})
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)

    def stat(query_id: str, name: str) -> dict[str, Any]:
        return {"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name}, "Period": 60, "Stat": "Sum"}}

    answer = cloudwatch.get_metric_data(MetricDataQueries=[
        stat("errors", "Errors"), stat("requests", "Requests"),
        {"Id": "rate", "Expression": "100 * errors / requests", "Label": "Error rate"},
        {"Id": "total", "Expression": "SUM(METRICS())"},
    ], StartTime=start, EndTime=start + 240, ScanBy="TimestampAscending")
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"rate", "total"}
    assert results["rate"]["Label"] == "Error rate"
    assert results["rate"]["Values"] == [0.0, 10.0, 20.0, 30.0]
    assert results["total"]["Values"] == [10.0, 11.0, 12.0, 13.0]
    stamps = results["rate"]["Timestamps"]
    assert [s.timestamp() for s in stamps] == [start + 60 * k for k in range(4)]
    descending = cloudwatch.get_metric_data(MetricDataQueries=[stat("errors", "Errors") | {"ReturnData": True}],
                                            StartTime=start, EndTime=start + 240)["MetricDataResults"][0]
    assert descending["Values"] == [3.0, 2.0, 1.0, 0.0] and descending["Label"] == "Errors"


def test_get_metric_data_pages_by_max_datapoints(cw: Any, unique: str) -> None:
    namespace = f"Paged/{unique}"
    start = (time.time() // 60) * 60 - 600
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Hits", "Value": float(k), "Timestamp": start + 60 * k} for k in range(10)])
    query = [{"Id": "hits", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Hits"}, "Period": 60,
                                            "Stat": "Maximum"}}]
    seen: list[float] = []
    token = None
    for _ in range(5):
        page = cw.get_metric_data(MetricDataQueries=query, StartTime=start, EndTime=start + 600, MaxDatapoints=4,
                                  ScanBy="TimestampAscending", **({"NextToken": token} if token else {}))
        result = page["MetricDataResults"][0]
        seen.extend(result["Values"])
        token = page.get("NextToken")
        assert result["StatusCode"] == ("PartialData" if token else "Complete")
        if not token:
            break
    assert seen == [float(k) for k in range(10)]


def test_high_resolution_data_answers_periods_under_a_minute(cw: Any, unique: str) -> None:
    now = (time.time() // 60) * 60 - 60
    cw.put_metric_data(Namespace=f"Fast/{unique}", MetricData=[
        {"MetricName": "Ticks", "Value": 1.0, "Timestamp": now + second, "StorageResolution": 1}
        for second in (0, 1, 2, 11, 12, 25)])
    points = cw.get_metric_statistics(Namespace=f"Fast/{unique}", MetricName="Ticks", StartTime=now, EndTime=now + 60,
                                      Period=10, Statistics=["Sum"])["Datapoints"]
    assert sorted((p["Timestamp"].timestamp() - now, p["Sum"]) for p in points) == [(0, 3.0), (10, 2.0), (20, 1.0)]


@pytest.mark.parametrize("datum, code, message", [
    ({"MetricName": "m"}, "InvalidParameterCombination",
     "At least one of the parameters MetricData.member.1.Value, MetricData.member.1.StatisticValues and "
     "MetricData.member.1.Values must be specified."),
    ({"MetricName": "m", "Value": 1, "Values": [1.0]}, "InvalidParameterCombination",
     "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have "
     "specified both."),
    ({"MetricName": "m", "Values": [1.0, 2.0], "Counts": [1]}, "InvalidParameterCombination",
     "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size."),
    ({"MetricName": "m", "Value": 1, "StorageResolution": 30}, "InvalidParameterValue",
     "The value 30 for parameter MetricData.member.1.StorageResolution is invalid."),
    ({"MetricName": "m", "Value": 1, "Timestamp": time.time() - 15 * 86400}, "InvalidParameterValue",
     "The parameter MetricData.member.1.Timestamp must specify a time no more than two weeks in the past."),
    ({"MetricName": "m", "Value": 1, "Timestamp": time.time() + 3 * 3600}, "InvalidParameterValue",
     "The parameter MetricData.member.1.Timestamp must specify a time no more than two hours in the future."),
    ({"MetricName": "m", "Value": 2.0 ** 400}, "InvalidParameterValue",
     f"The value {2.0 ** 400!r} for parameter MetricData.member.1.Value is invalid."),
])
def test_put_metric_data_refuses_what_aws_refuses(cw: Any, datum: dict[str, Any], code: str, message: str) -> None:
    with pytest.raises(ClientError) as raised:
        cw.put_metric_data(Namespace="Checks", MetricData=[datum])
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["Error"]["Message"] == message
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_reserved_namespaces_and_bad_statistics_are_refused(cloudwatch: Any) -> None:
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_data(Namespace="AWS/SQS", MetricData=[{"MetricName": "m", "Value": 1}])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert raised.value.response["Error"]["Message"] == "The value AWS/SQS for parameter Namespace is invalid."
    now = time.time()
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_statistics(Namespace="x", MetricName="m", StartTime=now - 60, EndTime=now, Period=60,
                                         Statistics=["Sum"], ExtendedStatistics=["p99"])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterCombination"
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "Bad", "Expression": "1"}], StartTime=now - 60,
                                   EndTime=now)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "expected pattern ^[a-z][a-zA-Z0-9_]*$" in raised.value.response["Error"]["Message"]


def test_large_put_metric_data_bodies_arrive_gzipped_and_are_read(cw: Any, unique: str) -> None:
    namespace = f"Bulk/{unique}"
    # botocore compresses PutMetricData bodies over 10 KiB (the model's requestcompression trait)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": f"metric-{i:03d}", "Dimensions": _dims("x" * 40), "Value": float(i)} for i in range(300)])
    assert len(cw.get_paginator("list_metrics").paginate(Namespace=namespace).build_full_result()["Metrics"]) == 300


def test_sqs_activity_becomes_aws_sqs_metrics(clocked: ServerProcess, unique: str) -> None:
    server = clocked
    sqs, cw = server.client("sqs"), server.client("cloudwatch")
    url = sqs.create_queue(QueueName=f"metered-{unique}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 100)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "y" * 10} for i in range(3)])
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, VisibilityTimeout=30)  # nothing left to receive: empty
    server.advance_clock(60)  # closes the period: the recorder writes it

    def statistic(name: str, statistic: str = "Sum") -> float | None:
        now = time.time() + 120
        points = cw.get_metric_statistics(Namespace="AWS/SQS", MetricName=name, Dimensions=[
            {"Name": "QueueName", "Value": f"metered-{unique}"}], StartTime=now - 900, EndTime=now + 120, Period=60,
            Statistics=[statistic])["Datapoints"]
        return sum(p[statistic] for p in points) if points else None

    deadline = time.monotonic() + 30
    while statistic("NumberOfMessagesSent") is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert statistic("NumberOfMessagesSent") == 4
    assert statistic("NumberOfMessagesReceived") == len(got)
    assert statistic("NumberOfMessagesDeleted") == 1
    assert statistic("NumberOfEmptyReceives") == 1
    assert statistic("SentMessageSize", "Maximum") == 100
    assert statistic("ApproximateNumberOfMessagesNotVisible", "Maximum") == len(got) - 1
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWS/SQS", Dimensions=[
        {"Name": "QueueName", "Value": f"metered-{unique}"}])["Metrics"]}
    assert {"ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesDelayed",
            "ApproximateAgeOfOldestMessage"} <= names

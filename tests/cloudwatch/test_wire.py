"""The wire formats themselves: hand-written query requests (signed as SDKs sign them), RPC v2 CBOR
requests and errors byte for byte, and Kinesis spoken in `application/x-amz-cbor-1.1`."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import cbor2

from tests.conftest import ServerProcess
from tests.signing import signed_headers

NS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"


def _post(server: ServerProcess, path: str, body: bytes, headers: dict[str, str],
          service: str) -> tuple[int, dict[str, str], bytes]:
    url = f"{server.url}{path}"
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers=signed_headers("POST", url, body, headers, service))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def _query(server: ServerProcess, **params: str) -> tuple[int, ET.Element]:
    body = urllib.parse.urlencode({"Version": "2010-08-01", **params}).encode()
    status, _, raw = _post(server, "/", body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                           "monitoring")
    return status, ET.fromstring(raw)


def test_raw_query_requests_put_and_read_alarms_and_metrics(server: ServerProcess, unique: str) -> None:
    name = f"raw-{unique}"
    status, root = _query(server, Action="PutMetricAlarm", AlarmName=name, Namespace="Raw", MetricName="Errors",
                          Statistic="Sum", Period="60", EvaluationPeriods="2", Threshold="3",
                          ComparisonOperator="GreaterThanOrEqualToThreshold",
                          **{"Dimensions.member.1.Name": "Host", "Dimensions.member.1.Value": "web-1",
                             "AlarmActions.member.1": "arn:aws:sns:us-east-1:000000000000:pager"})
    assert status == 200 and root.tag == f"{NS}PutMetricAlarmResponse"
    status, root = _query(server, Action="DescribeAlarms", **{"AlarmNames.member.1": name})
    alarm = root.find(f"{NS}DescribeAlarmsResult/{NS}MetricAlarms/{NS}member")
    assert status == 200 and alarm is not None
    assert alarm.findtext(f"{NS}AlarmName") == name and alarm.findtext(f"{NS}Threshold") == "3.0"
    assert alarm.findtext(f"{NS}StateValue") == "INSUFFICIENT_DATA"
    assert alarm.findtext(f"{NS}Dimensions/{NS}member/{NS}Value") == "web-1"
    assert alarm.findtext(f"{NS}AlarmActions/{NS}member") == "arn:aws:sns:us-east-1:000000000000:pager"
    now = int(time.time())
    status, _ = _query(server, Action="PutMetricData", Namespace=f"Raw/{unique}", **{
        "MetricData.member.1.MetricName": "Errors", "MetricData.member.1.Value": "4",
        "MetricData.member.1.Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})
    assert status == 200
    status, root = _query(server, Action="GetMetricStatistics", Namespace=f"Raw/{unique}", MetricName="Errors",
                          StartTime=str(now - 120), EndTime=str(now + 60), Period="60", **{"Statistics.member.1": "Sum"})
    assert status == 200
    assert root.findtext(f"{NS}GetMetricStatisticsResult/{NS}Datapoints/{NS}member/{NS}Sum") == "4.0"


def test_raw_query_errors_are_xml_with_cloudwatchs_codes(server: ServerProcess) -> None:
    status, root = _query(server, Action="PutMetricData", **{"MetricData.member.1.MetricName": "m",
                                                             "MetricData.member.1.Value": "1"})
    assert status == 400
    assert root.findtext(f"{NS}Error/{NS}Code") == "MissingParameter"
    assert root.findtext(f"{NS}Error/{NS}Message") == "The parameter Namespace is required."
    assert root.findtext(f"{NS}Error/{NS}Type") == "Sender"
    status, root = _query(server, Action="GetDashboard", DashboardName="no-such-dashboard")
    assert status == 404 and root.findtext(f"{NS}Error/{NS}Code") == "ResourceNotFound"
    status, root = _query(server, Action="PutAnomalyDetector")
    assert status == 400 and root.findtext(f"{NS}Error/{NS}Code") == "InvalidAction"


def test_rpc_v2_cbor_answers_cbor_and_query_compatible_errors(server: ServerProcess, unique: str) -> None:
    headers = {"Content-Type": "application/cbor", "Accept": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
    path = "/service/GraniteServiceVersion20100801/operation/"
    body = cbor2.dumps({"Namespace": f"Cbor/{unique}", "MetricData": [
        {"MetricName": "Bytes", "Value": 2.5, "Timestamp": cbor2.CBORTag(1, int(time.time()))}]})
    status, response_headers, raw = _post(server, path + "PutMetricData", body, headers, "monitoring")
    assert status == 200 and response_headers["smithy-protocol"] == "rpc-v2-cbor"
    status, _, raw = _post(server, path + "ListMetrics", cbor2.dumps({"Namespace": f"Cbor/{unique}"}), headers,
                           "monitoring")
    assert status == 200 and cbor2.loads(raw)["Metrics"] == [
        {"Namespace": f"Cbor/{unique}", "MetricName": "Bytes", "Dimensions": []}]
    status, response_headers, raw = _post(server, path + "GetDashboard", cbor2.dumps({"DashboardName": "nope"}),
                                          headers, "monitoring")
    assert status == 404
    assert response_headers["content-type"] == "application/cbor"
    assert response_headers["x-amzn-query-error"] == "ResourceNotFound;Sender"
    assert cbor2.loads(raw) == {"__type": "com.amazonaws.cloudwatch#DashboardNotFoundError",
                                "message": "Dashboard nope does not exist"}
    status, _, raw = _post(server, path + "ListMetrics", b"\xff\x00", headers, "monitoring")
    assert status == 400 and cbor2.loads(raw)["__type"].endswith("SerializationException")


def test_kinesis_speaks_amz_cbor_with_millisecond_timestamps(server: ServerProcess, unique: str) -> None:
    headers = {"Content-Type": "application/x-amz-cbor-1.1"}

    def call(operation: str, document: dict[str, object]) -> tuple[int, dict[str, str], object]:
        status, response_headers, raw = _post(server, "/", cbor2.dumps(document),
                                              {**headers, "X-Amz-Target": f"Kinesis_20131202.{operation}"}, "kinesis")
        # tag 1 holds epoch milliseconds in x-amz-cbor-1.1 (as the SDK for Java reads it): keep the number
        return status, response_headers, cbor2.loads(raw, semantic_decoders={1: lambda value, _: value}) if raw else None

    stream = f"cbor-{unique}"
    assert call("CreateStream", {"StreamName": stream, "ShardCount": 1})[0] == 200
    kinesis = server.client("kinesis")
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    status, response_headers, put = call("PutRecord", {"StreamName": stream, "Data": b"\x00binary\xff",
                                                       "PartitionKey": "k"})
    assert status == 200 and response_headers["content-type"] == "application/x-amz-cbor-1.1"
    _, _, iterator = call("GetShardIterator", {"StreamName": stream, "ShardId": put["ShardId"],  # type: ignore[index]
                                               "ShardIteratorType": "TRIM_HORIZON"})
    _, _, records = call("GetRecords", {"ShardIterator": iterator["ShardIterator"]})  # type: ignore[index]
    record = records["Records"][0]  # type: ignore[index]
    assert record["Data"] == b"\x00binary\xff"
    expected = kinesis.get_records(ShardIterator=kinesis.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    millis = expected["Records"][0]["ApproximateArrivalTimestamp"].timestamp() * 1000
    assert abs(record["ApproximateArrivalTimestamp"] - millis) < 2
    status, _, error = call("DescribeStream", {"StreamName": f"missing-{unique}"})
    assert status == 400 and error["__type"] == "ResourceNotFoundException"  # type: ignore[index]
    assert json.dumps(error["message"])  # type: ignore[index]

"""Subscription filters through boto3: delivery to Lambda and Kinesis in AWS's gzip payload, the
destination checks AWS makes on creation, and the filters' CRUD."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.lambda_.conftest import ROLE, eventually, make_zip
from tests.lambda_.test_triggers import received

# Reports the decoded CloudWatch Logs payload it was invoked with to the queue in $SEEN.
LOG_READER = """
import base64, gzip, json, os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    sqs.send_message(QueueUrl=os.environ["SEEN"], MessageBody=json.dumps(data))
"""


def _group(logs: Any, name: str) -> None:
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="web-1")


def _reader(server: ServerProcess, unique: str) -> tuple[str, str]:
    url = server.client("sqs").create_queue(QueueName=f"seen-{unique}")["QueueUrl"]
    arn = server.client("lambda").create_function(
        FunctionName=f"reader-{unique}", Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=10,
        Code={"ZipFile": make_zip({"app.py": LOG_READER})}, Environment={"Variables": {"SEEN": url}})["FunctionArn"]
    return arn, url


def test_a_lambda_subscription_gets_matching_events_in_awslogs_data(server: ServerProcess, unique: str) -> None:
    logs, lam = server.client("logs"), server.client("lambda")
    group = f"/sub/{unique}"
    _group(logs, group)
    function_arn, seen = _reader(server, unique)
    with pytest.raises(ClientError) as caught:  # CloudWatch Logs may not invoke the function yet
        logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="ERROR",
                                     destinationArn=function_arn)
    assert caught.value.response["Error"] == {
        "Code": "InvalidParameterException", "Message": "Could not execute the lambda function. Make sure you have "
        "given CloudWatch Logs permission to execute your function."}
    lam.add_permission(FunctionName=function_arn, StatementId="logs", Action="lambda:InvokeFunction",
                       Principal="logs.amazonaws.com", SourceArn=f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*")
    now = int(time.time() * 1000)  # PutLogEvents skips events older than 14 days
    logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="[level = ERROR, ...]",
                                 destinationArn=function_arn)
    logs.put_log_events(logGroupName=group, logStreamName="web-1", logEvents=[
        {"timestamp": now, "message": "INFO all good"}, {"timestamp": now + 1, "message": "ERROR disk full"},
        {"timestamp": now + 2, "message": "ERROR again"}])
    [payload] = received(server, seen, 1)
    assert payload["messageType"] == "DATA_MESSAGE" and payload["owner"] == "000000000000"
    assert payload["logGroup"] == group and payload["logStream"] == "web-1"
    assert payload["subscriptionFilters"] == ["errors"]
    assert [(e["timestamp"], e["message"]) for e in payload["logEvents"]] == [(now + 1, "ERROR disk full"),
                                                                               (now + 2, "ERROR again")]
    assert payload["logEvents"][0]["extractedFields"] == {"level": "ERROR"}
    assert all(len(e["id"]) == 56 and e["id"].isdigit() for e in payload["logEvents"])
    ids = {e["eventId"] for e in logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]}
    assert {e["id"] for e in payload["logEvents"]} == ids  # the same ids FilterLogEvents answers
    described = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert described == [{"filterName": "errors", "logGroupName": group, "filterPattern": "[level = ERROR, ...]",
                          "destinationArn": function_arn, "distribution": "ByLogStream",
                          "creationTime": described[0]["creationTime"], "applyOnTransformedLogs": False}]
    logs.delete_subscription_filter(logGroupName=group, filterName="errors")
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []


def test_a_kinesis_subscription_gets_a_control_message_then_the_events(server: ServerProcess, unique: str) -> None:
    logs, kinesis = server.client("logs"), server.client("kinesis")
    group = f"/sub-k/{unique}"
    _group(logs, group)
    kinesis.create_stream(StreamName=f"logs-{unique}", ShardCount=1)
    stream_arn = eventually(lambda: (d := kinesis.describe_stream_summary(StreamName=f"logs-{unique}")[
        "StreamDescriptionSummary"])["StreamStatus"] == "ACTIVE" and d["StreamARN"])
    logs.put_subscription_filter(logGroupName=group, filterName="json", filterPattern="{ $.status >= 500 }",
                                 destinationArn=stream_arn, roleArn="arn:aws:iam::000000000000:role/r",
                                 distribution="Random")
    logs.put_log_events(logGroupName=group, logStreamName="web-1", logEvents=[
        {"timestamp": int(time.time() * 1000), "message": json.dumps({"status": 200})},
        {"timestamp": int(time.time() * 1000), "message": json.dumps({"status": 503})}])
    shard = kinesis.list_shards(StreamName=f"logs-{unique}")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=f"logs-{unique}", ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records: list[dict[str, Any]] = []

    def two_records() -> bool:
        nonlocal iterator
        answer = kinesis.get_records(ShardIterator=iterator)
        iterator = answer["NextShardIterator"]
        records.extend(json.loads(gzip.decompress(r["Data"])) for r in answer["Records"])
        return len(records) >= 2
    eventually(two_records, 30)
    control, data = records
    assert control["messageType"] == "CONTROL_MESSAGE" and control["owner"] == "CloudwatchLogs"
    assert control["logEvents"][0]["message"] == "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."
    assert data["messageType"] == "DATA_MESSAGE" and data["subscriptionFilters"] == ["json"]
    assert [e["message"] for e in data["logEvents"]] == [json.dumps({"status": 503})]
    assert "extractedFields" not in data["logEvents"][0]


def test_destinations_are_checked_as_aws_checks_them(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    group = f"/sub-bad/{unique}"
    _group(logs, group)

    def refusal(destination: str, pattern: str = "") -> dict[str, str]:
        with pytest.raises(ClientError) as caught:
            logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern=pattern,
                                         destinationArn=destination, roleArn="arn:aws:iam::000000000000:role/r")
        return {k: caught.value.response["Error"][k] for k in ("Code", "Message")}

    assert refusal(f"arn:aws:kinesis:us-east-1:000000000000:stream/none-{unique}") == {
        "Code": "InvalidParameterException", "Message": "Could not deliver test message to specified Kinesis stream. "
        "Check if the given kinesis stream is in ACTIVE state."}
    assert refusal(f"arn:aws:firehose:us-east-1:000000000000:deliverystream/{unique}") == {
        "Code": "InvalidParameterException", "Message": "Could not deliver test message to specified Firehose stream. "
        "Check if the given Firehose stream is in ACTIVE state."}
    assert refusal(f"arn:aws:lambda:us-east-1:000000000000:function:none-{unique}") == {
        "Code": "InvalidParameterException", "Message": "Could not execute the lambda function. Make sure you have "
        "given CloudWatch Logs permission to execute your function."}
    assert refusal(f"arn:aws:lambda:us-east-1:000000000000:function:none-{unique}", "{ $.a = }")["Message"] == (
        "Invalid subscription filter pattern")


def test_a_group_takes_two_subscription_filters(server: ServerProcess, unique: str) -> None:
    logs, lam = server.client("logs"), server.client("lambda")
    group = f"/sub-limit/{unique}"
    _group(logs, group)
    function_arn, _ = _reader(server, unique)
    lam.add_permission(FunctionName=function_arn, StatementId="logs", Action="lambda:InvokeFunction",
                       Principal="logs.us-east-1.amazonaws.com")
    for name in ("a", "b"):
        logs.put_subscription_filter(logGroupName=group, filterName=name, filterPattern="", destinationArn=function_arn)
    with pytest.raises(ClientError) as caught:
        logs.put_subscription_filter(logGroupName=group, filterName="c", filterPattern="", destinationArn=function_arn)
    assert caught.value.response["Error"]["Code"] == "LimitExceededException"
    logs.put_subscription_filter(logGroupName=group, filterName="a", filterPattern="ERROR", destinationArn=function_arn)
    described = logs.describe_subscription_filters(logGroupName=group, filterNamePrefix="a")["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in described] == [("a", "ERROR")]


def test_function_logs_reach_a_subscription(server: ServerProcess, unique: str) -> None:
    """Lambda's own log lines go through the same ingestion, so a subscription on /aws/lambda/<fn> sees them."""
    logs, lam = server.client("logs"), server.client("lambda")
    function_arn, seen = _reader(server, unique)
    lam.add_permission(FunctionName=function_arn, StatementId="logs", Action="lambda:InvokeFunction",
                       Principal="logs.amazonaws.com")
    noisy = lam.create_function(FunctionName=f"noisy-{unique}", Runtime="python3.12", Role=ROLE,
                                Handler="app.handler", Code={"ZipFile": make_zip({"app.py": (
                                    "def handler(event, context):\n    print('ORDER-FAILED ' + event['id'])\n")})})
    group = f"/aws/lambda/noisy-{unique}"
    logs.create_log_group(logGroupName=group)
    logs.put_subscription_filter(logGroupName=group, filterName="failures", filterPattern="ORDER-FAILED",
                                 destinationArn=function_arn)
    lam.invoke(FunctionName=noisy["FunctionArn"], Payload=json.dumps({"id": "o-7"}).encode())
    [payload] = received(server, seen, 1)
    assert [e["message"].strip() for e in payload["logEvents"]] == ["ORDER-FAILED o-7"]
    assert payload["logGroup"] == group and "[$LATEST]" in payload["logStream"]

"""CloudWatch Logs behaviour recorded against AWS (LocalStack's AWS-validated Logs suite): validation
wording, events outside the accepted window, deletion protection, pattern searches, paging, resource
policies, destinations and delivery destinations."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess

DAY_MS = 86_400_000


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


@pytest.fixture
def logs(server: ServerProcess) -> Any:
    return server.client("logs")


@pytest.fixture
def unchecked_logs(server: ServerProcess) -> Any:
    return boto3.client("logs", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(parameter_validation=False))


@pytest.fixture
def group(logs: Any, unique: str) -> str:
    logs.create_log_group(logGroupName=f"/recorded/{unique}")
    logs.create_log_stream(logGroupName=f"/recorded/{unique}", logStreamName="s")
    return f"/recorded/{unique}"


def test_model_violations_are_invalid_parameter_with_quoted_values(unchecked_logs: Any, group: str) -> None:
    with pytest.raises(ClientError) as raised:
        unchecked_logs.get_log_events(logGroupName=group, logStreamName="s", limit=10001)
    assert error(raised) == ("InvalidParameterException", "1 validation error detected: Value '10001' at 'limit' "
                             "failed to satisfy constraint: Member must have value less than or equal to 10000")
    with pytest.raises(ClientError) as raised:
        unchecked_logs.create_log_group(logGroupName="a" * 513)
    assert error(raised) == ("InvalidParameterException",
                             "Invalid LogGroup or LogStream, both must have length less than or equal to 512.")
    with pytest.raises(ClientError) as raised:  # the newer delivery operations keep ValidationException
        unchecked_logs.put_delivery_destination(name="d", outputFormat="foobar", deliveryDestinationConfiguration={
            "destinationResourceArn": "arn:aws:s3:::bucket"})
    assert error(raised)[0] == "ValidationException"
    assert "Value 'foobar' at 'outputFormat' failed to satisfy constraint" in error(raised)[1]


def test_events_too_old_too_new_or_expired_are_skipped_and_named(logs: Any, group: str) -> None:
    now = int(time.time() * 1000)
    answer = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now - 30 * DAY_MS, "message": "old"}, {"timestamp": now, "message": "kept"},
        {"timestamp": now + 3 * 3_600_000, "message": "future"}])
    assert answer["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2}
    assert answer["nextSequenceToken"].isdigit()
    events = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["kept"]
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    answer = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now - 3 * DAY_MS, "message": "expired"}, {"timestamp": now, "message": "fresh"}])
    assert answer["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    assert "rejectedLogEventsInfo" not in logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now, "message": "all fine"}])


def test_deletion_protection(logs: Any, unique: str) -> None:
    name = f"/protected/{unique}"
    logs.create_log_group(logGroupName=name, deletionProtectionEnabled=True)
    [described] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert described["deletionProtectionEnabled"] is True and described["storedBytes"] == 0
    with pytest.raises(ClientError) as raised:
        logs.delete_log_group(logGroupName=name)
    assert error(raised) == ("ValidationException", "Cannot delete log group with deletion protection enabled. "
                             "Disable deletion protection first.")
    logs.put_log_group_deletion_protection(logGroupIdentifier=name, deletionProtectionEnabled=False)
    logs.delete_log_group(logGroupName=name)


def test_pattern_searches(logs: Any, unique: str) -> None:
    name = f"pattern-{unique}"
    logs.create_log_group(logGroupName=name)
    with pytest.raises(ClientError) as raised:
        logs.describe_log_groups(logGroupNamePrefix=name, logGroupNamePattern=unique)
    assert error(raised) == ("InvalidParameterException",
                             "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    found = logs.describe_log_groups(logGroupNamePattern=unique)
    assert [g["logGroupName"] for g in found["logGroups"]] == [name]
    assert "storedBytes" not in found["logGroups"][0] and "deletionProtectionEnabled" not in found["logGroups"][0]
    following = logs.describe_log_groups(logGroupNamePattern=unique, nextToken=found["nextToken"])
    assert following["logGroups"] == [] and "nextToken" not in following


def test_groups_and_streams_page_with_sealed_tokens(logs: Any, unique: str) -> None:
    names = [f"/paged/{unique}/{i}" for i in range(5)]
    for name in names:
        logs.create_log_group(logGroupName=name)
    seen, token = [], None
    while True:
        page = logs.describe_log_groups(logGroupNamePrefix=f"/paged/{unique}", limit=2,
                                        **({"nextToken": token} if token else {}))
        seen.append([g["logGroupName"] for g in page["logGroups"]])
        if not (token := page.get("nextToken")):
            break
    assert seen == [names[0:2], names[2:4], names[4:]]
    with pytest.raises(ClientError) as raised:
        logs.describe_log_groups(nextToken="garbage")
    assert error(raised) == ("InvalidParameterException", "The specified nextToken is invalid.")
    now = int(time.time() * 1000)
    for i, stream in enumerate(["b", "a", "c"]):
        logs.create_log_stream(logGroupName=names[0], logStreamName=stream)
        logs.put_log_events(logGroupName=names[0], logStreamName=stream,
                            logEvents=[{"timestamp": now + i, "message": stream}])
    first = logs.describe_log_streams(logGroupName=names[0], orderBy="LastEventTime", descending=True, limit=2)
    rest = logs.describe_log_streams(logGroupName=names[0], orderBy="LastEventTime", descending=True, limit=2,
                                     nextToken=first["nextToken"])
    assert [s["logStreamName"] for s in first["logStreams"] + rest["logStreams"]] == ["c", "a", "b"]
    with pytest.raises(ClientError) as raised:
        logs.describe_log_streams(logGroupName=names[0], logGroupIdentifier=names[0])
    assert error(raised) == ("ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")


def test_resource_policies(logs: Any, unique: str) -> None:
    sent = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["route53.amazonaws.com"]},
                                      "Action": ["logs:PutLogEvents"], "Resource": "*"}]})
    answer = logs.put_resource_policy(policyName=f"p-{unique}", policyDocument=sent)["resourcePolicy"]
    assert answer["policyDocument"] == sent and answer["policyScope"] == "ACCOUNT"
    [stored] = [p for p in logs.describe_resource_policies()["resourcePolicies"] if p["policyName"] == f"p-{unique}"]
    assert json.loads(stored["policyDocument"]) == {"Version": "2008-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"}, "Action": "logs:PutLogEvents",
         "Resource": "*"}]}
    logs.delete_resource_policy(policyName=f"p-{unique}")
    with pytest.raises(ClientError) as raised:
        logs.delete_resource_policy(policyName=f"p-{unique}")
    assert error(raised) == ("ResourceNotFoundException", f"Policy with name [p-{unique}] does not exist.")


def test_ten_resource_policies_at_most(fresh_server: ServerProcess) -> None:
    logs = fresh_server.client("logs")
    for i in range(10):
        logs.put_resource_policy(policyName=f"p{i}", policyDocument="{}")
    with pytest.raises(ClientError) as raised:
        logs.put_resource_policy(policyName="one-more", policyDocument="{}")
    assert error(raised) == ("LimitExceededException", "Resource limit exceeded.")
    logs.put_resource_policy(policyName="p1", policyDocument='{"Statement": []}')  # an update still works


def test_destinations(logs: Any, unique: str) -> None:
    target = f"arn:aws:kinesis:us-east-1:000000000000:stream/s-{unique}"
    role = "arn:aws:iam::000000000000:role/logs-to-kinesis"
    made = logs.put_destination(destinationName=f"d-{unique}", targetArn=target, roleArn=role)["destination"]
    assert made["arn"] == f"arn:aws:logs:us-east-1:000000000000:destination:d-{unique}"
    assert {k: made[k] for k in ("destinationName", "targetArn", "roleArn")} == {
        "destinationName": f"d-{unique}", "targetArn": target, "roleArn": role}
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    logs.put_destination_policy(destinationName=f"d-{unique}", accessPolicy=policy)
    [described] = logs.describe_destinations(DestinationNamePrefix=f"d-{unique}")["destinations"]
    assert described["accessPolicy"] == policy and described["creationTime"] == made["creationTime"]
    logs.delete_destination(destinationName=f"d-{unique}")
    assert logs.describe_destinations(DestinationNamePrefix=f"d-{unique}")["destinations"] == []
    with pytest.raises(ClientError) as raised:
        logs.delete_destination(destinationName=f"d-{unique}")
    assert error(raised)[0] == "ResourceNotFoundException"


def test_delivery_destinations_and_sources(logs: Any, group: str, unique: str) -> None:
    group_arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    made = logs.put_delivery_destination(name=f"dd-{unique}", outputFormat="json",
                                         deliveryDestinationConfiguration={"destinationResourceArn": group_arn})
    assert made["deliveryDestination"]["deliveryDestinationType"] == "CWL"
    got = logs.get_delivery_destination(name=f"dd-{unique}")["deliveryDestination"]
    assert got["arn"] == f"arn:aws:logs:us-east-1:000000000000:delivery-destination:dd-{unique}"
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    logs.put_delivery_destination_policy(deliveryDestinationName=f"dd-{unique}", deliveryDestinationPolicy=policy)
    assert logs.get_delivery_destination_policy(deliveryDestinationName=f"dd-{unique}")["policy"] == {
        "deliveryDestinationPolicy": policy}
    logs.delete_delivery_destination(name=f"dd-{unique}")
    for call in (lambda: logs.get_delivery_destination(name=f"dd-{unique}"),
                 lambda: logs.delete_delivery_destination(name=f"dd-{unique}")):
        with pytest.raises(ClientError) as raised:
            call()
        assert error(raised) == ("ResourceNotFoundException",
                                 "Requested Delivery Destination does not exist in this account.")
    with pytest.raises(ClientError) as raised:
        logs.put_delivery_source(name="src", resourceArn="arn:aws:s3:::bucket", logType="ACCESS_LOGS")
    assert error(raised) == ("ResourceNotFoundException", "Cannot access provided service.")
    with pytest.raises(ClientError) as raised:
        logs.get_delivery_source(name="src")
    assert error(raised) == ("ResourceNotFoundException", "Requested Delivery Source does not exist in this account.")

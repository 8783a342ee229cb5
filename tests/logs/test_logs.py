"""CloudWatch Logs subset through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def test_groups_streams_and_events_round_trip(server: Any, unique: str) -> None:
    logs = server.client("logs")
    group = f"/app/{unique}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": 1000, "message": "hello world"}, {"timestamp": 2000, "message": "goodbye"}])
    events = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in events["events"]] == ["hello world", "goodbye"]
    again = logs.get_log_events(logGroupName=group, logStreamName="s1", nextToken=events["nextForwardToken"])
    assert again["events"] == [] and again["nextForwardToken"] == events["nextForwardToken"]
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]
    assert stream["firstEventTimestamp"] == 1000 and stream["lastEventTimestamp"] == 2000
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern="hello")["events"]] == [
        "hello world"]
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []


def test_missing_and_duplicate_resources_are_aws_errors(server: Any, unique: str) -> None:
    logs = server.client("logs")
    with pytest.raises(ClientError) as caught:
        logs.get_log_events(logGroupName=f"/none/{unique}", logStreamName="s")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    logs.create_log_group(logGroupName=f"/dup/{unique}")
    with pytest.raises(ClientError) as caught:
        logs.create_log_group(logGroupName=f"/dup/{unique}")
    assert caught.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"

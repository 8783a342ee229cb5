"""CloudWatch Logs subset through boto3."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

# Events must be recent: PutLogEvents skips those older than 14 days (rejectedLogEventsInfo).
NOW_MS = int(time.time() * 1000)


def test_groups_streams_and_events_round_trip(server: Any, unique: str) -> None:
    logs = server.client("logs")
    group = f"/app/{unique}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": NOW_MS, "message": "hello world"}, {"timestamp": NOW_MS + 1, "message": "goodbye"}])
    events = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in events["events"]] == ["hello world", "goodbye"]
    again = logs.get_log_events(logGroupName=group, logStreamName="s1", nextToken=events["nextForwardToken"])
    assert again["events"] == [] and again["nextForwardToken"] == events["nextForwardToken"]
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]
    assert stream["firstEventTimestamp"] == NOW_MS and stream["lastEventTimestamp"] == NOW_MS + 1
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


def test_filter_patterns_match_json_fields_quoted_phrases_and_terms(server: Any, unique: str) -> None:
    import json

    logs = server.client("logs")
    group = f"/json/{unique}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    messages = [
        json.dumps({"level": "ERROR", "latency": 700, "user": {"id": "u1"}, "tags": ["a", "b"], "ok": False}),
        json.dumps({"level": "INFO", "latency": 120, "user": {"id": "u2"}, "tags": ["c"], "ok": True}),
        json.dumps({"level": "WARN", "latency": 500, "code": "200", "ok": None}),
        "plain text: request failed badly",
    ]
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": NOW_MS + i, "message": m} for i, m in enumerate(messages)])

    def found(pattern: str) -> list[int]:
        events = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
        return [messages.index(e["message"]) for e in events]

    assert found('{ $.level = "ERROR" }') == [0]
    assert found("{ $.level = ERROR }") == [0]
    assert found('{ $.level != "ERROR" }') == [1, 2]
    assert found("{ $.latency > 500 }") == [0]
    assert found("{ $.latency >= 500 }") == [0, 2]
    assert found("{ $.latency < 500 }") == [1]
    assert found('{ $.latency > 100 && $.level = "INFO" }') == [1]
    assert found('{ $.level = "ERROR" || $.latency = 500 }') == [0, 2]
    assert found('{ ($.level = "INFO" || $.level = "WARN") && $.latency < 200 }') == [1]
    assert found('{ $.user.id = "u2" }') == [1]
    assert found('{ $.tags[1] = "b" }') == [0]
    assert found('{ $.level = "W*" }') == [2]
    assert found("{ $.ok IS TRUE }") == [1]
    assert found("{ $.ok IS FALSE }") == [0]
    assert found("{ $.ok IS NULL }") == [2]
    assert found("{ $.user NOT EXISTS }") == [2]
    assert found("{ $.code = 200 }") == [2]
    assert found('"request failed"') == [3]
    assert found('"failed request"') == []
    with pytest.raises(ClientError) as caught:
        logs.filter_log_events(logGroupName=group, filterPattern="{ $.level = }")
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def test_retention_stream_deletion_and_listing_by_prefix(server: Any, unique: str) -> None:
    logs = server.client("logs")
    group = f"/ret/{unique}"
    logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    [described] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described["retentionInDays"] == 7 and described["logGroupName"] == group
    with pytest.raises(ClientError) as caught:
        logs.put_retention_policy(logGroupName=group, retentionInDays=8)  # not one of the allowed values
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    for name in ("b-stream", "a-stream", "c-other"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a-stream", "b-stream", "c-other"]
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="c-")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["c-other"]
    logs.delete_log_stream(logGroupName=group, logStreamName="b-stream")
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a-stream", "c-other"]
    with pytest.raises(ClientError) as caught:
        logs.delete_log_stream(logGroupName=group, logStreamName="b-stream")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        logs.put_log_events(logGroupName=group, logStreamName="missing",
                            logEvents=[{"timestamp": 1, "message": "x"}])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        logs.create_log_stream(logGroupName=group, logStreamName="a-stream")
    assert caught.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"

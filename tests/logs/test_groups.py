"""Log groups through boto3: ListLogGroups, tags in both API generations, and retention enforced on
the server's clock."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudwatch.conftest import server_now, wait_for
from tests.conftest import ServerProcess

DAY = 86_400


def test_list_log_groups_matches_prefixes_and_substrings(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    names = [f"/svc-{unique}/api", f"/svc-{unique}/worker", f"/other-{unique}/api"]
    for name in names:
        logs.create_log_group(logGroupName=name)

    def listed(pattern: str, **kwargs: Any) -> list[str]:
        return [g["logGroupName"] for g in logs.list_log_groups(logGroupNamePattern=pattern, **kwargs)["logGroups"]]

    assert listed(f"^/svc-{unique}") == names[:2]
    assert listed(f"{unique}/api") == [names[2], names[0]]
    assert listed(f"^/other-{unique}|worker") == [names[2], names[1]]
    [first] = logs.list_log_groups(logGroupNamePattern=f"^/svc-{unique}", limit=1)["logGroups"]
    assert first == {"logGroupName": names[0], "logGroupClass": "STANDARD",
                     "logGroupArn": f"arn:aws:logs:us-east-1:000000000000:log-group:{names[0]}"}
    page = logs.list_log_groups(logGroupNamePattern=f"^/svc-{unique}", limit=1)
    rest = logs.list_log_groups(logGroupNamePattern=f"^/svc-{unique}", limit=1, nextToken=page["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == [names[1]] and "nextToken" not in rest
    assert listed(f"^/svc-{unique}", logGroupClass="INFREQUENT_ACCESS") == []


def test_tags_by_arn_and_by_name_are_one_set(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    group = f"/tags/{unique}"
    logs.create_log_group(logGroupName=group, tags={"team": "orders"})
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "orders"}
    logs.tag_resource(resourceArn=arn, tags={"env": "dev"})
    logs.tag_log_group(logGroupName=group, tags={"cost": "42"})
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"team": "orders", "env": "dev", "cost": "42"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    logs.untag_log_group(logGroupName=group, tags=["cost"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}
    with pytest.raises(ClientError) as caught:
        logs.tag_resource(resourceArn=arn, tags={f"k{n}": "v" for n in range(50)})
    assert caught.value.response["Error"]["Code"] == "TooManyTagsException"
    with pytest.raises(ClientError) as caught:
        logs.list_tags_log_group(logGroupName=f"/tags/none-{unique}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        logs.list_tags_for_resource(resourceArn=f"arn:aws:logs:us-east-1:000000000000:log-group:/none-{unique}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_retention_deletes_events_older_than_the_groups_retention(fresh_server: ServerProcess) -> None:
    logs = fresh_server.client("logs")
    for group in ("/kept", "/short"):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_retention_policy(logGroupName="/short", retentionInDays=1)
    now = server_now(fresh_server)
    events = [{"timestamp": int((now - 2 * DAY) * 1000), "message": "old"},
              {"timestamp": int((now - 3600) * 1000), "message": "recent"}]
    for group in ("/kept", "/short"):
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)

    def messages(group: str) -> list[str]:
        return [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName="s",
                                                          startFromHead=True)["events"]]

    wait_for(lambda: messages("/short") == ["recent"], message="the 2-day-old event swept from /short")
    fresh_server.advance_clock(DAY)  # now "recent" is a day and an hour old too
    wait_for(lambda: messages("/short") == [], message="every event older than a day swept")
    assert messages("/kept") == ["old", "recent"]  # no retention: kept forever

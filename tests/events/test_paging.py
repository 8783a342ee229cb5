"""EventBridge and Scheduler listings page by name with sealed tokens (services/paging)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess


def _all_pages(call: Any, items_key: str, limit_key: str = "Limit", **params: Any) -> list[list[Any]]:
    pages, token = [], None
    while True:
        answer = call(**params, **{limit_key: 2}, **({"NextToken": token} if token else {}))
        pages.append(answer[items_key])
        token = answer.get("NextToken")
        if not token:
            return pages


def test_list_rules_pages_by_name(events: Any, unique: str) -> None:
    names = [f"page-{unique}-{i}" for i in range(5)]
    for name in reversed(names):
        events.put_rule(Name=name, ScheduleExpression="rate(1 hour)", State="DISABLED")
    pages = _all_pages(events.list_rules, "Rules", NamePrefix=f"page-{unique}")
    assert [[r["Name"] for r in p] for p in pages] == [names[0:2], names[2:4], names[4:]]


def test_list_rule_names_by_target_pages_over_the_rules_that_name_it(events: Any, unique: str) -> None:
    arn = f"arn:aws:sqs:us-east-1:000000000000:target-{unique}"
    named = []
    for i in range(7):
        name = f"bytarget-{unique}-{i}"
        events.put_rule(Name=name, EventPattern='{"source": ["x"]}')
        if i % 2 == 0:
            events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": arn}])
            named.append(name)
    pages = _all_pages(events.list_rule_names_by_target, "RuleNames", TargetArn=arn)
    assert pages == [named[0:2], named[2:4]]


def test_list_targets_by_rule_pages(events: Any, unique: str) -> None:
    events.put_rule(Name=f"targets-{unique}", EventPattern='{"source": ["x"]}')
    targets = [{"Id": f"t{i}", "Arn": f"arn:aws:sqs:us-east-1:000000000000:q{i}"} for i in range(5)]
    events.put_targets(Rule=f"targets-{unique}", Targets=targets)
    pages = _all_pages(events.list_targets_by_rule, "Targets", Rule=f"targets-{unique}")
    assert [[t["Id"] for t in p] for p in pages] == [["t0", "t1"], ["t2", "t3"], ["t4"]]


@pytest.mark.parametrize("token", ["garbage", "1", "eyJsIjoiZXZlbnRzOmJ1cyIsImsiOlsiYSJdfQ"])
def test_a_token_the_listing_never_handed_out_is_invalid(events: Any, token: str) -> None:
    with pytest.raises(ClientError) as raised:
        events.list_rules(NextToken=token)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"] == "The NextToken provided is invalid."


def test_a_token_of_another_listing_is_invalid(events: Any, unique: str) -> None:
    for i in range(3):
        events.create_event_bus(Name=f"tokbus-{unique}-{i}")
    token = events.list_event_buses(NamePrefix=f"tokbus-{unique}", Limit=1)["NextToken"]
    with pytest.raises(ClientError) as raised:
        events.list_rules(NextToken=token)
    assert raised.value.response["Error"]["Message"] == "The NextToken provided is invalid."


def test_list_archives_pages(events: Any, unique: str) -> None:
    bus_arn = events.describe_event_bus()["Arn"]
    names = [f"arch-{unique}-{i}" for i in range(3)]
    for name in names:
        events.create_archive(ArchiveName=name, EventSourceArn=bus_arn)
    pages = _all_pages(events.list_archives, "Archives", NamePrefix=f"arch-{unique}")
    assert [[a["ArchiveName"] for a in p] for p in pages] == [names[:2], names[2:]]


def test_list_schedules_pages_within_a_group(server: ServerProcess, unique: str) -> None:
    scheduler = server.client("scheduler")
    scheduler.create_schedule_group(Name=f"g-{unique}")
    target = {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"}
    names = [f"s{i}" for i in range(5)]
    for name in names:
        scheduler.create_schedule(Name=name, GroupName=f"g-{unique}", ScheduleExpression="rate(1 hour)",
                                  FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    pages = _all_pages(scheduler.list_schedules, "Schedules", "MaxResults", GroupName=f"g-{unique}")
    assert [[s["Name"] for s in p] for p in pages] == [names[0:2], names[2:4], names[4:]]

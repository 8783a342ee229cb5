"""Buses, rules and targets through boto3: the CRUD contract and AWS's error codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.events.conftest import make_queue


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_the_default_bus_exists_in_every_region(events: Any) -> None:
    bus = events.describe_event_bus()
    assert bus["Name"] == "default"
    assert bus["Arn"] == "arn:aws:events:us-east-1:000000000000:event-bus/default"


def test_custom_buses_are_created_listed_described_and_deleted(events: Any, unique: str) -> None:
    arn = events.create_event_bus(Name=f"bus-{unique}", Description="orders")["EventBusArn"]
    assert arn.endswith(f":event-bus/bus-{unique}")
    assert events.describe_event_bus(Name=f"bus-{unique}")["Description"] == "orders"
    assert events.describe_event_bus(Name=arn)["Name"] == f"bus-{unique}"
    names = [b["Name"] for b in events.list_event_buses(NamePrefix=f"bus-{unique}")["EventBuses"]]
    assert names == [f"bus-{unique}"]
    with pytest.raises(ClientError) as error:
        events.create_event_bus(Name=f"bus-{unique}")
    assert code(error) == "ResourceAlreadyExistsException"
    events.delete_event_bus(Name=f"bus-{unique}")
    with pytest.raises(ClientError) as error:
        events.describe_event_bus(Name=f"bus-{unique}")
    assert code(error) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as error:
        events.delete_event_bus(Name="default")
    assert code(error) == "ValidationException"


def test_bus_tags_are_kept(events: Any, unique: str) -> None:
    arn = events.create_event_bus(Name=f"t-{unique}", Tags=[{"Key": "team", "Value": "a"}])["EventBusArn"]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    events.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as error:
        events.list_tags_for_resource(ResourceARN=arn + "-missing")
    assert code(error) == "ResourceNotFoundException"


def test_permissions_are_recorded_in_the_bus_policy(events: Any, unique: str) -> None:
    events.create_event_bus(Name=f"p-{unique}")
    events.put_permission(EventBusName=f"p-{unique}", Action="events:PutEvents", Principal="111122223333",
                          StatementId="one")
    events.put_permission(EventBusName=f"p-{unique}", Action="events:PutEvents", Principal="*", StatementId="org",
                          Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-123"})
    policy = json.loads(events.describe_event_bus(Name=f"p-{unique}")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["one", "org"]
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert policy["Statement"][1]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}
    events.remove_permission(EventBusName=f"p-{unique}", StatementId="one")
    policy = json.loads(events.describe_event_bus(Name=f"p-{unique}")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["org"]
    with pytest.raises(ClientError) as error:
        events.remove_permission(EventBusName=f"p-{unique}", StatementId="nope")
    assert code(error) == "ResourceNotFoundException"
    events.remove_permission(EventBusName=f"p-{unique}", RemoveAllPermissions=True)
    assert "Policy" not in events.describe_event_bus(Name=f"p-{unique}")


def test_rules_are_put_described_listed_toggled_and_deleted(events: Any, unique: str) -> None:
    pattern = json.dumps({"source": ["a"]})
    arn = events.put_rule(Name=f"r-{unique}", EventPattern=pattern, Description="d")["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:000000000000:rule/r-{unique}"
    rule = events.describe_rule(Name=f"r-{unique}")
    assert (rule["State"], rule["EventPattern"], rule["EventBusName"], rule["CreatedBy"]) == (
        "ENABLED", pattern, "default", "000000000000")
    events.disable_rule(Name=f"r-{unique}")
    assert events.describe_rule(Name=f"r-{unique}")["State"] == "DISABLED"
    events.enable_rule(Name=f"r-{unique}")
    assert [r["Name"] for r in events.list_rules(NamePrefix=f"r-{unique}")["Rules"]] == [f"r-{unique}"]
    events.delete_rule(Name=f"r-{unique}")
    with pytest.raises(ClientError) as error:
        events.describe_rule(Name=f"r-{unique}")
    assert code(error) == "ResourceNotFoundException"


def test_rules_on_custom_buses_have_the_bus_in_their_arn(events: Any, unique: str) -> None:
    events.create_event_bus(Name=f"b-{unique}")
    arn = events.put_rule(Name="r", EventBusName=f"b-{unique}", EventPattern='{"source": ["a"]}')["RuleArn"]
    assert arn.endswith(f":rule/b-{unique}/r")
    with pytest.raises(ClientError) as error:
        events.put_rule(Name="s", EventBusName=f"b-{unique}", ScheduleExpression="rate(5 minutes)")
    assert code(error) == "ValidationException"


@pytest.mark.parametrize("kwargs, expected", [
    ({}, "ValidationException"),
    ({"EventPattern": '{"source": "not-a-list"}'}, "InvalidEventPatternException"),
    ({"ScheduleExpression": "rate(1 minutes)"}, "ValidationException"),
    ({"ScheduleExpression": "cron(0 12 * * * *)"}, "ValidationException"),
    ({"EventPattern": '{"a": [1]}', "EventBusName": "no-such-bus"}, "ResourceNotFoundException"),
])
def test_invalid_rules_are_refused(events: Any, unique: str, kwargs: dict[str, str], expected: str) -> None:
    with pytest.raises(ClientError) as error:
        events.put_rule(Name=f"bad-{unique}", **kwargs)
    assert code(error) == expected


def test_targets_are_put_listed_removed_and_limited_to_five(events: Any, sqs: Any, unique: str) -> None:
    _, arn = make_queue(sqs, f"tq-{unique}")
    events.put_rule(Name=f"r-{unique}", EventPattern='{"source": ["a"]}')
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": str(i), "Arn": arn} for i in range(5)])
    assert len(events.list_targets_by_rule(Rule=f"r-{unique}")["Targets"]) == 5
    with pytest.raises(ClientError) as error:
        events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "6", "Arn": arn}])
    assert code(error) == "LimitExceededException"
    assert events.list_rule_names_by_target(TargetArn=arn)["RuleNames"] == [f"r-{unique}"]
    with pytest.raises(ClientError) as error:
        events.delete_rule(Name=f"r-{unique}")
    assert code(error) == "ValidationException"
    events.remove_targets(Rule=f"r-{unique}", Ids=[str(i) for i in range(5)])
    assert events.list_targets_by_rule(Rule=f"r-{unique}")["Targets"] == []
    events.delete_rule(Name=f"r-{unique}")
    with pytest.raises(ClientError) as error:
        events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": arn}])
    assert code(error) == "ResourceNotFoundException"


def test_a_fifo_queue_target_needs_a_message_group(events: Any, sqs: Any, unique: str) -> None:
    _, arn = make_queue(sqs, f"f-{unique}.fifo", FifoQueue="true")
    events.put_rule(Name=f"r-{unique}", EventPattern='{"source": ["a"]}')
    with pytest.raises(ClientError) as error:
        events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "1", "Arn": arn}])
    assert code(error) == "ValidationException"


def test_test_event_pattern_answers_and_validates(events: Any) -> None:
    event = json.dumps({"id": "1", "source": "a", "detail-type": "t", "account": "1", "region": "r",
                        "time": "2022-01-01T00:00:00Z", "detail": {"n": 5}})
    assert events.test_event_pattern(EventPattern='{"detail": {"n": [{"numeric": [">", 4]}]}}', Event=event)["Result"]
    assert not events.test_event_pattern(EventPattern='{"source": ["b"]}', Event=event)["Result"]
    with pytest.raises(ClientError) as error:
        events.test_event_pattern(EventPattern='{"source": "b"}', Event=event)
    assert code(error) == "InvalidEventPatternException"
    with pytest.raises(ClientError) as error:
        events.test_event_pattern(EventPattern='{"source": ["b"]}', Event='"text"')
    assert code(error) == "ValidationException"


def test_unsupported_operations_answer_an_aws_error(events: Any) -> None:
    with pytest.raises(ClientError) as error:
        events.list_endpoints()
    assert code(error) == "UnknownOperationException"

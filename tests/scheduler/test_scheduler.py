"""EventBridge Scheduler through boto3: groups, schedules, errors, and firings on a moved clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.events.conftest import make_queue, receive

OFF = {"Mode": "OFF"}


@pytest.fixture
def scheduler(server: ServerProcess) -> Any:
    return server.client("scheduler")


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_groups_are_created_read_listed_tagged_and_deleted(scheduler: Any, unique: str) -> None:
    arn = scheduler.create_schedule_group(Name=f"g-{unique}", Tags=[{"Key": "k", "Value": "v"}])["ScheduleGroupArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule-group/g-{unique}"
    assert scheduler.get_schedule_group(Name=f"g-{unique}")["State"] == "ACTIVE"
    assert scheduler.get_schedule_group(Name="default")["Name"] == "default"
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    names = [g["Name"] for g in scheduler.list_schedule_groups(NamePrefix=f"g-{unique}")["ScheduleGroups"]]
    assert names == [f"g-{unique}"]
    with pytest.raises(ClientError) as error:
        scheduler.create_schedule_group(Name=f"g-{unique}")
    assert code(error) == "ConflictException"
    scheduler.delete_schedule_group(Name=f"g-{unique}")
    with pytest.raises(ClientError) as error:
        scheduler.get_schedule_group(Name=f"g-{unique}")
    assert code(error) == "ResourceNotFoundException"


def test_schedules_are_created_read_updated_listed_and_deleted(scheduler: Any, unique: str) -> None:
    target = {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"}
    arn = scheduler.create_schedule(Name=f"s-{unique}", ScheduleExpression="cron(0 9 * * ? *)",
                                    ScheduleExpressionTimezone="Europe/Paris", FlexibleTimeWindow=OFF,
                                    Target=target)["ScheduleArn"]
    assert arn.endswith(f":schedule/default/s-{unique}")
    got = scheduler.get_schedule(Name=f"s-{unique}")
    assert (got["ScheduleExpressionTimezone"], got["State"], got["ActionAfterCompletion"]) == (
        "Europe/Paris", "ENABLED", "NONE")
    scheduler.update_schedule(Name=f"s-{unique}", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow=OFF,
                              Target=target, State="DISABLED")
    assert scheduler.get_schedule(Name=f"s-{unique}")["State"] == "DISABLED"
    listed = scheduler.list_schedules(NamePrefix=f"s-{unique}")["Schedules"]
    assert [s["Name"] for s in listed] == [f"s-{unique}"]
    with pytest.raises(ClientError) as error:
        scheduler.create_schedule(Name=f"s-{unique}", ScheduleExpression="rate(5 minutes)",
                                  FlexibleTimeWindow=OFF, Target=target)
    assert code(error) == "ConflictException"
    scheduler.delete_schedule(Name=f"s-{unique}")
    with pytest.raises(ClientError) as error:
        scheduler.get_schedule(Name=f"s-{unique}")
    assert code(error) == "ResourceNotFoundException"


@pytest.mark.parametrize("changes", [
    {"ScheduleExpression": "every day"},
    {"ScheduleExpressionTimezone": "Mars/Olympus"},
    {"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}},
    {"GroupName": "no-such-group"},
])
def test_invalid_schedules_are_refused(scheduler: Any, unique: str, changes: dict[str, Any]) -> None:
    params = {"Name": f"bad-{unique}", "ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": OFF,
              "Target": {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"},
              **changes}
    with pytest.raises(ClientError) as error:
        scheduler.create_schedule(**params)
    assert code(error) == ("ResourceNotFoundException" if "GroupName" in changes else "ValidationException")


def test_an_at_schedule_fires_once_when_the_clock_reaches_it_and_then_deletes_itself(
        fresh_server: ServerProcess, unique: str) -> None:
    scheduler, sqs, events = (fresh_server.client(n) for n in ("scheduler", "sqs", "events"))
    url, arn = make_queue(sqs, f"q-{unique}")
    bus_url, bus_queue = make_queue(sqs, f"bq-{unique}")
    events.put_rule(Name="from-scheduler", EventPattern=json.dumps({"source": ["my.scheduler"]}))
    events.put_targets(Rule="from-scheduler", Targets=[{"Id": "q", "Arn": bus_queue}])
    when = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
    role = "arn:aws:iam::000000000000:role/r"
    scheduler.create_schedule(Name="once", ScheduleExpression=f"at({when})", FlexibleTimeWindow=OFF,
                              ActionAfterCompletion="DELETE",
                              Target={"Arn": arn, "RoleArn": role, "Input": '{"hello": "sqs"}'})
    scheduler.create_schedule(Name="to-bus", ScheduleExpression=f"at({when})", FlexibleTimeWindow=OFF,
                              Target={"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default",
                                      "RoleArn": role, "Input": '{"hello": "bus"}',
                                      "EventBridgeParameters": {"Source": "my.scheduler", "DetailType": "tick"}})
    assert receive(sqs, url, timeout=1) == []
    fresh_server.advance_clock(2 * 3600 + 1)
    [message] = receive(sqs, url)
    assert json.loads(message["Body"]) == {"hello": "sqs"}
    [forwarded] = receive(sqs, bus_url)
    assert json.loads(forwarded["Body"])["detail"] == {"hello": "bus"}
    with pytest.raises(ClientError) as error:
        scheduler.get_schedule(Name="once")
    assert code(error) == "ResourceNotFoundException"
    assert scheduler.get_schedule(Name="to-bus")["State"] == "ENABLED"


def test_a_rate_schedule_survives_sigkill(fresh_server: ServerProcess, unique: str) -> None:
    scheduler, sqs = fresh_server.client("scheduler"), fresh_server.client("sqs")
    url, arn = make_queue(sqs, f"q-{unique}")
    scheduler.create_schedule(Name="every", ScheduleExpression="rate(10 minutes)", FlexibleTimeWindow=OFF,
                              Target={"Arn": arn, "RoleArn": "arn:aws:iam::000000000000:role/r", "Input": "{}"})
    fresh_server.kill()
    fresh_server.start()
    fresh_server.advance_clock(601)
    assert len(receive(sqs, url)) == 1

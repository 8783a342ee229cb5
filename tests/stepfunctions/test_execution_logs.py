"""loggingConfiguration: execution history written to a CloudWatch Logs group as AWS writes it, per
log level and with or without execution data; AWS's InvalidLoggingConfiguration errors."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.conftest import ROLE, run_to_end

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "it broke"}}}
VALIDATION_STREAM = "log_stream_created_by_aws_to_validate_log_delivery_subscriptions"


@pytest.fixture
def log_group(server: Any, unique: str) -> tuple[str, str]:
    logs = server.client("logs")
    name = f"/aws/vendedlogs/states/test-{unique}"
    logs.create_log_group(logGroupName=name)
    arn = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["arn"]
    return name, arn


def logging(level: str, arn: str | None, include: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = {"level": level, "includeExecutionData": include}
    if arn is not None:
        config["destinations"] = [{"cloudWatchLogsLogGroup": {"logGroupArn": arn}}]
    return config


def logged(server: Any, group: str, count: int) -> list[dict[str, Any]]:
    """The log events of the execution stream, once `count` of them arrived (delivery is asynchronous)."""
    logs = server.client("logs")
    deadline = time.monotonic() + 30
    messages: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        streams = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]
                   if s["logStreamName"] != VALIDATION_STREAM]
        if streams:
            events = logs.get_log_events(logGroupName=group, logStreamName=streams[-1], startFromHead=True)["events"]
            messages = [json.loads(e["message"]) for e in events]
            if len(messages) >= count:
                return messages
        time.sleep(0.1)
    raise AssertionError(f"{len(messages)} of {count} log events arrived")


def test_all_events_without_execution_data(server: Any, sfn: Any, unique: str, log_group: tuple[str, str]) -> None:
    group, arn = log_group
    machine = sfn.create_state_machine(name=f"logs-{unique}", definition=json.dumps(PASS), roleArn=ROLE,
                                       loggingConfiguration=logging("ALL", arn))["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=machine)["loggingConfiguration"] == logging("ALL", arn)
    streams = server.client("logs").describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [VALIDATION_STREAM]  # AWS's delivery check
    done = run_to_end(sfn, machine, {"x": 1})
    messages = logged(server, group, 4)
    history = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
    assert [m["type"] for m in messages] == [e["type"] for e in history]
    assert messages[0] == {"id": "1", "type": "ExecutionStarted", "details": {"roleArn": ROLE},
                           "previous_event_id": "0", "event_timestamp": messages[0]["event_timestamp"],
                           "execution_arn": done["executionArn"], "redrive_count": "0"}
    # epoch milliseconds (the history's timestamp is rounded to them too)
    assert abs(int(messages[0]["event_timestamp"]) - history[0]["timestamp"].timestamp() * 1000) <= 1
    assert messages[2]["details"] == {"name": "P"} and messages[3]["details"] == {}


def test_execution_data_is_included_when_asked(server: Any, sfn: Any, unique: str,
                                               log_group: tuple[str, str]) -> None:
    group, arn = log_group
    machine = sfn.create_state_machine(name=f"logs-data-{unique}", definition=json.dumps(PASS), roleArn=ROLE,
                                       loggingConfiguration=logging("ALL", arn, include=True))["stateMachineArn"]
    run_to_end(sfn, machine, {"x": 1})
    messages = logged(server, group, 4)
    assert messages[0]["details"] == {"input": '{"x": 1}', "inputDetails": {"truncated": False}, "roleArn": ROLE}
    assert messages[3]["details"] == {"output": '{"a":1}', "outputDetails": {"truncated": False}}


@pytest.mark.parametrize(("level", "types"), [("ERROR", ["FailStateEntered", "ExecutionFailed"]),
                                              ("FATAL", ["ExecutionFailed"])])
def test_error_and_fatal_levels_log_only_failures(server: Any, sfn: Any, unique: str, log_group: tuple[str, str],
                                                  level: str, types: list[str]) -> None:
    group, arn = log_group
    machine = sfn.create_state_machine(name=f"logs-{level}-{unique}", definition=json.dumps(FAIL), roleArn=ROLE,
                                       loggingConfiguration=logging(level, arn))["stateMachineArn"]
    run_to_end(sfn, machine, {})
    messages = logged(server, group, len(types))
    assert [m["type"] for m in messages] == types
    assert messages[-1]["details"] == {"error": "Boom", "cause": "it broke"}


def test_an_express_execution_and_a_stop_are_logged(server: Any, sfn: Any, unique: str,
                                                    log_group: tuple[str, str]) -> None:
    group, arn = log_group
    express = sfn.create_state_machine(name=f"logs-express-{unique}", definition=json.dumps(PASS), roleArn=ROLE,
                                       type="EXPRESS", loggingConfiguration=logging("ALL", arn))["stateMachineArn"]
    sfn.start_sync_execution(stateMachineArn=express, input="{}")
    assert [m["type"] for m in logged(server, group, 4)][-1] == "ExecutionSucceeded"
    waiting = sfn.create_state_machine(name=f"logs-stop-{unique}", roleArn=ROLE, loggingConfiguration=logging(
        "FATAL", arn), definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600,
                                                                                "End": True}}}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=waiting)["executionArn"]
    sfn.stop_execution(executionArn=execution, error="Enough")
    logs = server.client("logs")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = logs.filter_log_events(logGroupName=group, filterPattern='"ExecutionAborted"')["events"]
        if found:
            assert json.loads(found[0]["message"])["details"] == {"error": "Enough"}
            return
        time.sleep(0.1)
    raise AssertionError("the stop was not logged")


@pytest.mark.parametrize("config", [{"level": "ALL"}, {"level": "ERROR", "destinations": []}])
def test_a_level_without_exactly_one_destination_is_invalid(sfn: Any, unique: str, config: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name=f"bad-logs-{unique}", definition=json.dumps(PASS), roleArn=ROLE,
                                 loggingConfiguration=config)
    assert err.value.response["Error"]["Code"] == "InvalidLoggingConfiguration"
    assert err.value.response["Error"]["Message"] == \
        "Invalid Logging Configuration: Must specify exactly one Log Destination."


def test_two_destinations_or_a_missing_group_are_invalid(server: Any, sfn: Any, unique: str,
                                                         log_group: tuple[str, str]) -> None:
    _, arn = log_group
    two = logging("ALL", arn)
    two["destinations"] = two["destinations"] * 2
    machine = sfn.create_state_machine(name=f"logs-upd-{unique}", definition=json.dumps(PASS),
                                       roleArn=ROLE)["stateMachineArn"]
    with pytest.raises(ClientError) as err:
        sfn.update_state_machine(stateMachineArn=machine, loggingConfiguration=two)
    assert err.value.response["Error"]["Message"].endswith("Must specify exactly one Log Destination.")
    missing = logging("ALL", arn.replace(f"test-{unique}", f"gone-{unique}"))
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name=f"logs-missing-{unique}", definition=json.dumps(PASS), roleArn=ROLE,
                                 loggingConfiguration=missing)
    assert err.value.response["Error"]["Message"] == "Invalid Logging Configuration: Log Destination not found."


def test_an_incomplete_configuration_is_shown_with_aws_defaults(sfn: Any, unique: str) -> None:
    for index, config in enumerate(({}, {"destinations": []})):
        machine = sfn.create_state_machine(name=f"logs-default-{index}-{unique}", definition=json.dumps(PASS),
                                           roleArn=ROLE, loggingConfiguration=config)["stateMachineArn"]
        shown = sfn.describe_state_machine(stateMachineArn=machine)["loggingConfiguration"]
        assert shown == {**config, "level": "OFF", "includeExecutionData": False}

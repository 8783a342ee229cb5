"""A task's history as AWS records it, through boto3: Activity* events for an activity ARN (the
worker's name on ActivityStarted), and a task's `Credentials` role as `taskCredentials`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.conftest import ROLE, finished


def events(sfn: Any, arn: str) -> list[dict[str, Any]]:
    out = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    for event in out:
        event.pop("timestamp")
    return list(out)


def details(event: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in event.items() if k.endswith("EventDetails"))


def activity_machine(make_machine: Any, activity: str, **task: Any) -> str:
    return str(make_machine({"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": activity, "End": True, **task}}}))


def test_an_activity_task_records_activity_events_with_the_worker_name(sfn: Any, make_machine: Any,
                                                                        unique: str) -> None:
    activity = sfn.create_activity(name=f"act-{unique}")["activityArn"]
    machine = activity_machine(make_machine, activity, TimeoutSeconds=60, HeartbeatSeconds=30)
    arn = sfn.start_execution(stateMachineArn=machine, input='{"job": 1}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
    # committed before the worker hears of the task: the running execution's history shows it
    assert [e["type"] for e in events(sfn, arn)][-2:] == ["ActivityScheduled", "ActivityStarted"]
    sfn.send_task_success(taskToken=task["taskToken"], output='{"done": true}')
    assert finished(sfn, arn)["status"] == "SUCCEEDED"
    history = events(sfn, arn)
    assert [e["type"] for e in history] == [
        "ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded",
        "TaskStateExited", "ExecutionSucceeded"]
    assert details(history[2]) == {"resource": activity, "input": '{"job": 1}', "inputDetails": {"truncated": False},
                                   "timeoutInSeconds": 60, "heartbeatInSeconds": 30}
    assert details(history[3]) == {"workerName": "worker-1"}
    assert details(history[4]) == {"output": '{"done":true}', "outputDetails": {"truncated": False}}
    assert [e["previousEventId"] for e in history[2:5]] == [2, 3, 4]


def test_an_activity_worker_without_a_name_and_a_failure(sfn: Any, make_machine: Any, unique: str) -> None:
    activity = sfn.create_activity(name=f"act-{unique}")["activityArn"]
    arn = sfn.start_execution(stateMachineArn=activity_machine(make_machine, activity), input="{}")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Programmatic Error", cause="it broke")
    assert finished(sfn, arn)["status"] == "FAILED"
    history = events(sfn, arn)
    assert [e["type"] for e in history][3:] == ["ActivityStarted", "ActivityFailed", "ExecutionFailed"]
    assert details(history[3]) == {}
    assert details(history[4]) == {"error": "Programmatic Error", "cause": "it broke"}


def test_an_activity_task_times_out_as_activity_timed_out(sfn: Any, make_machine: Any, unique: str) -> None:
    activity = sfn.create_activity(name=f"act-{unique}")["activityArn"]
    machine = activity_machine(make_machine, activity, TimeoutSeconds=1)
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert finished(sfn, arn)["error"] == "States.Timeout"
    history = events(sfn, arn)
    assert [e["type"] for e in history][2:] == ["ActivityScheduled", "ActivityTimedOut", "ExecutionFailed"]
    assert details(history[3]) == {"error": "States.Timeout"}


def test_a_task_on_a_deleted_activity_fails_the_execution_before_scheduling(sfn: Any, make_machine: Any,
                                                                            unique: str) -> None:
    activity = sfn.create_activity(name=f"act-{unique}")["activityArn"]
    machine = make_machine({"StartAt": "Work", "States": {  # a Catch on States.ALL does not take States.Runtime
        "Work": {"Type": "Task", "Resource": activity, "Next": "Caught",
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True}}})
    sfn.delete_activity(activityArn=activity)
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    described = finished(sfn, arn)
    assert described["error"] == "States.Runtime"
    assert described["cause"] == (f"An error occurred while executing the state 'Work' (entered at the event id #2). "
                                  f"The activity {activity} does not exist.")
    assert [e["type"] for e in events(sfn, arn)] == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]


def credentials_machine(make_machine: Any, credentials: dict[str, Any], jsonata: bool = False,
                        resource: str = "arn:aws:states:::sqs:sendMessage") -> str:
    task: dict[str, Any] = {"Type": "Task", "Resource": resource, "Credentials": credentials, "End": True}
    if jsonata:
        task["Arguments"] = {"QueueUrl": "{% $states.input.QueueUrl %}", "MessageBody": "hi"}
    else:
        task["Parameters"] = {"QueueUrl.$": "$.QueueUrl", "MessageBody": "hi"}
    machine: dict[str, Any] = {"StartAt": "Send", "States": {"Send": task}}
    if jsonata:
        machine["QueryLanguage"] = "JSONata"
    return str(make_machine(machine))


def trusting_role(server: Any, name: str) -> str:
    """A role of the server's account whose trust policy lets the account's roles assume it."""
    iam = server.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}
    try:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])


@pytest.mark.parametrize("credentials,jsonata", [
    ({"RoleArn": "arn:aws:iam::000000000000:role/credentials-target"}, False),
    ({"RoleArn.$": "$.Role"}, False),
    ({"RoleArn.$": "States.Format('{}', $.Role)"}, False),
    ({"RoleArn": "{% $states.input.Role %}"}, True),
], ids=["literal", "path", "intrinsic", "jsonata"])
def test_a_task_records_its_credentials_role(server: Any, sfn: Any, make_machine: Any, unique: str,
                                             credentials: dict[str, Any], jsonata: bool) -> None:
    import boto3

    sqs = boto3.client("sqs", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret")
    queue = sqs.create_queue(QueueName=f"creds-{unique}")["QueueUrl"]
    machine = credentials_machine(make_machine, credentials, jsonata)
    role = trusting_role(server, "credentials-target")
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"QueueUrl": queue, "Role": role}))[
        "executionArn"]
    assert finished(sfn, arn)["status"] == "SUCCEEDED"
    scheduled = next(e for e in events(sfn, arn) if e["type"] == "TaskScheduled")
    assert details(scheduled)["taskCredentials"] == {"roleArn": role}


def test_a_lambda_function_task_records_its_credentials_role(sfn: Any, make_machine: Any) -> None:
    function = "arn:aws:lambda:us-east-1:000000000000:function:absent"
    machine = make_machine({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": function, "Credentials": {"RoleArn.$": "$.Role"}, "End": True}}})
    arn = sfn.start_execution(stateMachineArn=machine, input='{"Role": "arn:aws:iam::1:role/r"}')["executionArn"]
    finished(sfn, arn)
    scheduled = next(e for e in events(sfn, arn) if e["type"] == "LambdaFunctionScheduled")
    assert details(scheduled)["taskCredentials"] == {"roleArn": "arn:aws:iam::1:role/r"}


def test_a_credentials_path_that_selects_nothing_fails_the_execution(sfn: Any, make_machine: Any) -> None:
    machine = credentials_machine(make_machine, {"RoleArn.$": "$.NoSuchRole"})
    arn = sfn.start_execution(stateMachineArn=machine, input='{"QueueUrl": "q"}')["executionArn"]
    described = finished(sfn, arn)
    assert described["error"] == "States.Runtime"
    assert "The JSONPath '$.NoSuchRole' specified for the field 'RoleArn.$' could not be found" in described["cause"]
    assert "TaskScheduled" not in [e["type"] for e in events(sfn, arn)]


@pytest.mark.parametrize("credentials", [{}, {"InvalidField": "invalid"}], ids=["empty", "unknown-field"])
def test_credentials_without_a_role_are_an_invalid_definition(sfn: Any, credentials: dict[str, Any]) -> None:
    definition = {"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                   "Credentials": credentials, "End": True}}}
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name="no-role", definition=json.dumps(definition), roleArn=ROLE)
    assert err.value.response["Error"]["Code"] == "InvalidDefinition"
    assert err.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was "
        "missing at /States/S/Credentials'")

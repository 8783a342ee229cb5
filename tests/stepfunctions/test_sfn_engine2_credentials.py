"""A task's `Credentials` role with `--auth sigv4` and two accounts, through boto3: the task's calls act as
that role in the role's own account when its trust policy lets the execution role assume it, and the
task fails with STS's AssumeRole refusal otherwise (a role that does not trust it, or no such role)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.conftest import CLIENT_CONFIG, ServerProcess, start_authenticated

OWNER = ("AKIASFNOWNER00000001", "owner-secret", "111111111111")
OTHER = ("AKIASFNOTHER00000002", "other-secret", "222222222222")
EXECUTION_ROLE = f"arn:aws:iam::{OWNER[2]}:role/sfn-role"
EXECUTION_SESSION = f"arn:aws:sts::{OWNER[2]}:assumed-role/sfn-role/states"


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_authenticated(tmp_path_factory.mktemp("sfn-credentials") / "data", OWNER, OTHER)
    yield process
    process.stop()


def client(server: ServerProcess, service: str, key: tuple[str, str, str] = OWNER) -> Any:
    from botocore.config import Config

    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key[0],
                        aws_secret_access_key=key[1], config=CLIENT_CONFIG.merge(Config(inject_host_prefix=False)))


def other_role(server: ServerProcess, name: str, principal: dict[str, Any]) -> str:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
    role = client(server, "iam", OTHER).create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def run(server: ServerProcess, name: str, task: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    sfn = client(server, "stepfunctions")
    definition = {"StartAt": "Work", "States": {"Work": {**task, "End": True}}}
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=EXECUTION_ROLE)
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + 20
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.05)
    return dict(described)


def start_sync_task() -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Credentials": {"RoleArn.$": "$.Role"},
            "Parameters": {"StateMachineArn.$": "$.Target", "Input": {"from": "owner"}}}


def other_machine(server: ServerProcess, name: str) -> str:
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"done": True}, "End": True}}}
    return str(client(server, "stepfunctions", OTHER).create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=f"arn:aws:iam::{OTHER[2]}:role/sfn-role",
    )["stateMachineArn"])


@pytest.mark.parametrize("principal", [{"AWS": f"arn:aws:iam::{OWNER[2]}:root"}, {"AWS": OWNER[2]},
                                       {"AWS": EXECUTION_ROLE}], ids=["root", "account", "execution-role"])
def test_a_trusted_role_runs_the_task_in_its_own_account(two_accounts: ServerProcess, unique: str,
                                                         principal: dict[str, Any]) -> None:
    role = other_role(two_accounts, f"trusting-{unique}", principal)
    target = other_machine(two_accounts, f"target-{unique}")
    done = run(two_accounts, f"caller-{unique}", start_sync_task(), {"Role": role, "Target": target})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["ExecutionArn"].startswith(f"arn:aws:states:us-east-1:{OTHER[2]}:execution:target-{unique}:")
    assert output["Output"] == {"done": True}


def test_a_queue_of_the_roles_account_is_reached_without_a_queue_policy(two_accounts: ServerProcess,
                                                                       unique: str) -> None:
    role = other_role(two_accounts, f"sender-{unique}", {"AWS": f"arn:aws:iam::{OWNER[2]}:root"})
    queue = client(two_accounts, "sqs", OTHER).create_queue(QueueName=f"q-{unique}")["QueueUrl"]
    task = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Credentials": {"RoleArn": role},
            "Parameters": {"QueueUrl": queue, "MessageBody": "hello"}}
    assert run(two_accounts, f"send-{unique}", task, {})["status"] == "SUCCEEDED"
    received = client(two_accounts, "sqs", OTHER).receive_message(QueueUrl=queue, WaitTimeSeconds=1)
    assert [m["Body"] for m in received["Messages"]] == ["hello"]


@pytest.mark.parametrize("principal", [{"Service": "states.amazonaws.com"}, {"AWS": "arn:aws:iam::333333333333:root"},
                                       {"AWS": f"arn:aws:iam::{OWNER[2]}:role/another-role"}],
                         ids=["service", "third-account", "another-role"])
def test_a_role_that_does_not_trust_the_execution_role_is_refused(two_accounts: ServerProcess, unique: str,
                                                                  principal: dict[str, Any]) -> None:
    role = other_role(two_accounts, f"distrusting-{unique}", principal)
    target = other_machine(two_accounts, f"target-{unique}")
    done = run(two_accounts, f"caller-{unique}", start_sync_task(), {"Role": role, "Target": target})
    assert (done["status"], done["error"]) == ("FAILED", "States.TaskFailed")
    assert done["cause"] == f"User: {EXECUTION_SESSION} is not authorized to perform: sts:AssumeRole on resource: {role}"
    executions = client(two_accounts, "stepfunctions", OTHER).list_executions(stateMachineArn=target)["executions"]
    assert executions == []  # nothing ran in the other account


def test_a_role_that_does_not_exist_is_refused_and_can_be_caught(two_accounts: ServerProcess, unique: str) -> None:
    role = f"arn:aws:iam::{OTHER[2]}:role/absent-{unique}"
    task = {**start_sync_task(), "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error",
                                            "Next": "Caught"}]}
    task.pop("End", None)
    sfn = client(two_accounts, "stepfunctions")
    definition = {"StartAt": "Work", "States": {"Work": {**task, "Next": "Caught"},
                                                 "Caught": {"Type": "Pass", "End": True}}}
    machine = sfn.create_state_machine(name=f"catch-{unique}", definition=json.dumps(definition),
                                       roleArn=EXECUTION_ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"Role": role, "Target": "x"}))[
        "executionArn"]
    deadline = time.monotonic() + 20
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert json.loads(described["output"])["error"] == {
        "Error": "States.TaskFailed",
        "Cause": f"User: {EXECUTION_SESSION} is not authorized to perform: sts:AssumeRole on resource: {role}"}

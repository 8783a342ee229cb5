"""Lambda and Step Functions accept an execution role only if it exists and trusts their service
principal, as AWS checks at CreateFunction/CreateStateMachine and when the role is changed."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.conftest import ServerProcess
from tests.iam.test_roles_and_policies import LAMBDA_TRUST, error_of

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
STATES_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.us-east-1.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
LAMBDA_REFUSAL = ("InvalidParameterValueException", 400, "The role defined for the function cannot be assumed by Lambda.")
STATES_REFUSAL = ("AccessDeniedException", 400, "Neither the global service principal states.amazonaws.com, nor the "
                                                "regional one is authorized to assume the provided role.")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _create_function(lam: Any, name: str, role: str) -> Any:
    return lam.create_function(FunctionName=name, Runtime="python3.12", Handler="h.handler", Role=role,
                               Code={"ZipFile": _zip()})


def test_a_function_needs_a_role_that_exists_and_trusts_lambda(server: ServerProcess, unique: str) -> None:
    iam, lam = server.client("iam"), server.client("lambda")
    assert error_of(lambda: _create_function(lam, f"f-{unique}", f"arn:aws:iam::000000000000:role/none-{unique}")) == (
        LAMBDA_REFUSAL)
    states_only = iam.create_role(RoleName=f"states-{unique}", AssumeRolePolicyDocument=json.dumps(STATES_TRUST))
    assert error_of(lambda: _create_function(lam, f"f-{unique}", states_only["Role"]["Arn"])) == LAMBDA_REFUSAL
    lambda_role = iam.create_role(RoleName=f"lambda-{unique}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    arn = lambda_role["Role"]["Arn"]
    assert _create_function(lam, f"f-{unique}", arn)["Role"] == arn
    assert error_of(lambda: lam.update_function_configuration(FunctionName=f"f-{unique}",
                                                              Role=states_only["Role"]["Arn"])) == LAMBDA_REFUSAL


def test_a_state_machine_needs_a_role_that_trusts_step_functions(server: ServerProcess, unique: str) -> None:
    iam, sfn = server.client("iam"), server.client("stepfunctions")
    missing = f"arn:aws:iam::000000000000:role/none-{unique}"
    assert error_of(lambda: sfn.create_state_machine(name=f"m-{unique}", definition=PASS, roleArn=missing)) == (
        STATES_REFUSAL)
    lambda_only = iam.create_role(RoleName=f"fn-{unique}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    assert error_of(lambda: sfn.create_state_machine(name=f"m-{unique}", definition=PASS,
                                                     roleArn=lambda_only["Role"]["Arn"])) == STATES_REFUSAL
    regional = iam.create_role(RoleName=f"sm-{unique}", AssumeRolePolicyDocument=json.dumps(STATES_TRUST))["Role"]["Arn"]
    machine = sfn.create_state_machine(name=f"m-{unique}", definition=PASS, roleArn=regional)["stateMachineArn"]
    assert error_of(lambda: sfn.update_state_machine(stateMachineArn=machine, roleArn=missing)) == STATES_REFUSAL

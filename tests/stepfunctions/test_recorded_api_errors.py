"""API refusals worded as AWS recorded them (LocalStack's AWS-validated Step Functions snapshots)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.conftest import ROLE

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def _error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_validation_messages_quote_every_value(sfn_client_no_validation: Any) -> None:
    code, message = _error(sfn_client_no_validation.list_state_machines, maxResults=1001)
    assert (code, message) == ("ValidationException", "1 validation error detected: Value '1001' at 'maxResults' "
                               "failed to satisfy constraint: Member must have value less than or equal to 1000")


def test_alias_routes_are_checked_as_aws_words_it(sfn: Any, sfn_client_no_validation: Any, unique: str) -> None:
    created = sfn.create_state_machine(name=f"alias-{unique}", definition=PASS, roleArn=ROLE, publish=True)
    machine, v1 = created["stateMachineArn"], created["stateMachineVersionArn"]
    v2 = sfn.update_state_machine(stateMachineArn=machine, definition=PASS.replace('"P"', '"Q"'),
                                  publish=True)["stateMachineVersionArn"]
    try:
        create = sfn.create_state_machine_alias
        assert _error(create, name="a", routingConfiguration=[{"stateMachineVersionArn": machine, "weight": 50},
                                                             {"stateMachineVersionArn": v2, "weight": 50}]) == (
            "ValidationException", f"Routing configuration must contain state machine version ARNs. "
                                   f"Received: [{machine}, {v2}]")
        assert _error(create, name="a", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50},
                                                             {"stateMachineVersionArn": v1, "weight": 50}]) == (
            "ValidationException", f"Routing configuration must contain distinct state machine version ARNs. "
                                   f"Received: [{v1}, {v1}]")
        assert _error(create, name="a", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 70},
                                                             {"stateMachineVersionArn": v2, "weight": 29}]) == (
            "ValidationException", "Sum of routing configuration weights must equal 100. Received: [70, 29]")
        code, message = _error(sfn_client_no_validation.create_state_machine_alias, name="a",
                               routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 101}])
        assert message == ("1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' "
                           "failed to satisfy constraint: Member must have value less than or equal to 100")
        alias = create(name="live", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])
        assert _error(sfn.delete_state_machine_version, stateMachineVersionArn=v1) == (
            "ConflictException", "Version to be deleted must not be referenced by an alias. Current list of "
                                 "aliases referencing this version: [live]")
        sfn.delete_state_machine_alias(stateMachineAliasArn=alias["stateMachineAliasArn"])
        assert _error(sfn.update_state_machine_alias, stateMachineAliasArn=alias["stateMachineAliasArn"],
                      description="gone") == ("ResourceNotFound", "Request references a resource that does not exist.")
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)


def test_a_version_description_needs_publish(sfn: Any, unique: str) -> None:
    assert _error(sfn.create_state_machine, name=f"nopub-{unique}", definition=PASS, roleArn=ROLE,
                  versionDescription="HelloWorld!") == (
        "ValidationException", "Version description can only be set when publish is true")


def test_arns_of_the_wrong_kind_are_invalid(sfn: Any, make_machine: Any) -> None:
    assert _error(sfn.get_execution_history, executionArn="invalid_state_machine_arn") == (
        "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_state_machine_arn'")
    assert _error(sfn.publish_state_machine_version, stateMachineArn="invalid_arn") == (
        "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_arn'")
    machine = make_machine(json.loads(PASS), type_="EXPRESS")
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    for call in (sfn.describe_execution, sfn.stop_execution, sfn.get_execution_history):
        assert _error(call, executionArn=arn) == (
            "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")

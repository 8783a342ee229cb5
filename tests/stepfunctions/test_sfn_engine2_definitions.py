"""Definitions AWS refuses, through boto3: a Task Resource naming an optimized integration AWS does not
have (CreateStateMachine, UpdateStateMachine, ValidateStateMachineDefinition)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.conftest import ROLE


def task_machine(resource: str) -> str:
    return json.dumps({"StartAt": "Query", "States": {"Query": {"Type": "Task", "Resource": resource, "End": True}}})


NOT_RECOGNIZED = ("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided {} is not "
                  "recognized. The value is not a valid resource ARN, or the resource is not available in this "
                  "region. at /States/Query/Resource'")


@pytest.mark.parametrize("resource", ["arn:aws:states:::dynamodb:query", "arn:aws:states:::lambda:listFunctions",
                                      "arn:aws:states:::sqs:receiveMessage.waitForTaskToken",
                                      "arn:aws:states:::nosuchservice:doIt"])
def test_an_unknown_optimized_integration_is_refused(sfn: Any, unique: str, resource: str) -> None:
    with pytest.raises(ClientError) as caught:
        sfn.create_state_machine(name=f"sm-{unique}", definition=task_machine(resource), roleArn=ROLE)
    assert caught.value.response["Error"]["Code"] == "InvalidDefinition"
    assert caught.value.response["Error"]["Message"] == NOT_RECOGNIZED.format(resource)


def test_update_and_validate_refuse_it_too(sfn: Any, make_machine: Any) -> None:
    resource = "arn:aws:states:::dynamodb:query"
    arn = make_machine(json.loads(task_machine("arn:aws:states:::dynamodb:getItem")))
    with pytest.raises(ClientError) as caught:
        sfn.update_state_machine(stateMachineArn=arn, definition=task_machine(resource))
    assert caught.value.response["Error"]["Message"] == NOT_RECOGNIZED.format(resource)
    answer = sfn.validate_state_machine_definition(definition=task_machine(resource))
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"] == [{
        "severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "location": "/States/Query/Resource",
        "message": f"The resource provided {resource} is not recognized. The value is not a valid resource ARN, "
                   "or the resource is not available in this region."}]


@pytest.mark.parametrize("resource", ["arn:aws:states:::dynamodb:getItem", "arn:aws:states:::states:startExecution.sync:2",
                                      "arn:aws:states:::sns:publish.waitForTaskToken", "arn:aws:states:::http:invoke",
                                      "arn:aws:states:::aws-sdk:dynamodb:query", "arn:aws:states:::glue:startJobRun.sync"])
def test_the_integrations_aws_has_are_accepted(sfn: Any, resource: str) -> None:
    assert sfn.validate_state_machine_definition(definition=task_machine(resource))["result"] == "OK"

"""TestState of Map and Parallel states as AWS recorded it (LocalStack's AWS-validated snapshots):
mapIterationFailureCount against the Map's tolerance, spaced JSON, a state nested in a Map, the
inspection AWS shows for each."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.test_test_state import run_test_state

LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:f"
MAP = {"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.Values %}",
       "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                         "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": True}}},
       "ToleratedFailureCount": 1, "End": True}
INPUT = json.dumps({"Values": ["first", "second", "third"]})


def test_map_iteration_failures_beyond_the_tolerance_fail_the_map(sfn: Any) -> None:
    below = run_test_state(sfn, MAP, input=INPUT, stateConfiguration={"mapIterationFailureCount": 1},
                           inspectionLevel="DEBUG", mock={"result": "[1,1,1]"})
    assert (below["status"], below["output"]) == ("SUCCEEDED", "[1, 1, 1]")
    assert "result" not in below["inspectionData"]
    retried = dict(MAP, Retry=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 2}])
    above = run_test_state(sfn, retried, input=INPUT, stateConfiguration={"mapIterationFailureCount": 2},
                           inspectionLevel="DEBUG", mock={"result": "[0,0,1]"})
    assert (above["status"], above["error"], above["cause"]) == (
        "RETRIABLE", "States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded")
    assert above["inspectionData"]["errorDetails"] == {"retryBackoffIntervalSeconds": 1, "retryIndex": 0}
    untolerant = {k: v for k, v in MAP.items() if k != "ToleratedFailureCount"}
    ignored = run_test_state(sfn, untolerant, input=INPUT, stateConfiguration={"mapIterationFailureCount": 2},
                             mock={"result": "[0,0,1]"})
    assert ignored["status"] == "SUCCEEDED"


def test_a_parallel_state_is_inspected_without_its_raw_result(sfn: Any) -> None:
    parallel = {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}
    answer = run_test_state(sfn, parallel, input="{}", inspectionLevel="DEBUG",
                            mock={"result": json.dumps([{"branch1": "result"}, {"branch2": "result"}])})
    assert answer["output"] == '[{"branch1": "result"}, {"branch2": "result"}]'
    assert "result" not in answer["inspectionData"]
    assert answer["inspectionData"]["afterResultPath"] == answer["output"]


def test_a_state_inside_a_map_can_be_tested_by_name(sfn: Any) -> None:
    machine = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.Values", "End": True,
        "ItemProcessor": {"StartAt": "HandleItem", "States": {"HandleItem": {"Type": "Pass", "End": True}}}}}}
    answer = run_test_state(sfn, machine, stateName="HandleItem", input='{"a": 1}')
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == {"a": 1}
    with pytest.raises(ClientError) as err:
        run_test_state(sfn, machine, stateName="dne", input="{}")
    assert err.value.response["Error"]["Message"] == "State not found in definition"
    failed = run_test_state(sfn, machine, stateName="M", input=INPUT, inspectionLevel="DEBUG",
                            mock={"errorOutput": {"error": "MockException", "cause": "c"}})
    assert failed["inspectionData"]["afterItemsPath"] == '["first", "second", "third"]'
    assert json.loads(failed["inspectionData"]["afterInputPath"]) == json.loads(INPUT)


def test_a_spent_retrier_is_named_in_the_error_details(sfn: Any) -> None:
    task = {"Type": "Task", "Resource": LAMBDA, "End": True, "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1}]}
    answer = run_test_state(sfn, task, input="{}", inspectionLevel="DEBUG", stateConfiguration={
        "retrierRetryCount": 1}, mock={"errorOutput": {"error": "E", "cause": "c"}})
    assert answer["status"] == "FAILED"
    assert answer["inspectionData"]["errorDetails"] == {"retryIndex": 0}


def _mock_error(sfn: Any, resource: str, result: Any, mode: str | None = None) -> str:
    mock: dict[str, Any] = {"result": json.dumps(result)}
    if mode:
        mock["fieldValidationMode"] = mode
    with pytest.raises(ClientError) as err:
        run_test_state(sfn, {"Type": "Task", "Resource": resource, "End": True}, input="{}", mock=mock)
    return str(err.value.response["Error"]["Message"])


@pytest.mark.parametrize(("resource", "result", "message"), [
    ("arn:aws:states:::events:putEvents", {"Entries": "not a list"}, "Field 'Entries' must be an array"),
    ("arn:aws:states:::events:putEvents", {"Entries": [{"EventId": "a"}, {"EventId": ["b"]}]},
     "Field 'EventId' must be a string"),
    ("arn:aws:states:::states:startExecution", {}, "Required field 'ExecutionArn' is missing"),
    ("arn:aws:states:::states:startExecution", {"executionArn": "a", "startDate": "b"},
     "Required field 'ExecutionArn' is missing"),
    ("arn:aws:states:::states:startExecution", {"ExecutionArn": "a", "StartDate": 1764103483},
     "Field 'StartDate' must be a string"),
    ("arn:aws:states:::lambda:invoke", {"StatusCode": "200"}, "Field 'StatusCode' must be a number"),
    ("arn:aws:states:::aws-sdk:s3:getObject", {"StorageClass": "Papyrus"}, "Field 'StorageClass' is not an expected value"),
    ("arn:aws:states:::aws-sdk:kms:encrypt", {"CiphertextBlob": 123}, "Field 'CiphertextBlob' must be a string"),
    ("arn:aws:states:::aws-sdk:lambda:getFunction", {"Configuration": {"MemorySize": 127}},
     "Field 'MemorySize' is less than the minimum value"),
])
def test_a_mocked_result_is_checked_against_the_api(sfn: Any, resource: str, result: Any, message: str) -> None:
    assert _mock_error(sfn, resource, result) == f"Mock result schema validation error: {message}"


def test_present_and_none_modes_check_less(sfn: Any) -> None:
    start = "arn:aws:states:::states:startExecution"
    assert _mock_error(sfn, start, {"ExecutionArn": 1}, "PRESENT") == (
        "Mock result schema validation error: Field 'ExecutionArn' must be a string")
    for mode, result in (("PRESENT", {}), ("NONE", {"StartDate": True}), ("STRICT", {"ExecutionArn": "a",
                                                                                  "StartDate": "b", "x": 1})):
        answer = run_test_state(sfn, {"Type": "Task", "Resource": start, "End": True}, input="{}",
                                mock={"result": json.dumps(result), "fieldValidationMode": mode})
        assert answer["status"] == "SUCCEEDED", (mode, answer)


@pytest.mark.parametrize(("context", "message"), [
    ({"Execution": {"Id": 1}}, "Execution.Id must be a string"),
    ({"Map": {}}, "'Map' field is not supported when mocking a Context object"),
    ({"Execution": {"pokemon": "squirtle"}}, "Field 'pokemon' is not allowed"),
    ({"Pokedex": {}}, "Field 'Pokedex' is not allowed"),
])
def test_a_given_context_is_checked(sfn: Any, context: Any, message: str) -> None:
    with pytest.raises(ClientError) as err:
        run_test_state(sfn, {"Type": "Pass", "End": True}, input="{}", context=json.dumps(context))
    assert err.value.response["Error"]["Message"] == f"Invalid Context object provided: {message}"


def test_a_given_context_is_the_whole_context_object_and_gives_the_token(sfn: Any) -> None:
    state = {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": True}
    empty = run_test_state(sfn, state, input="{}", context='{"Execution": {}, "State": {}, "StateMachine": {}}')
    assert json.loads(empty["output"]) == {"ctx": {"Execution": {}, "State": {}, "StateMachine": {}}}
    wait = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True,
            "Parameters": {"QueueUrl": "q", "MessageBody": {"TaskToken.$": "$$.Task.Token"}}}
    answer = run_test_state(sfn, wait, input="{}", inspectionLevel="DEBUG", mock={"result": "{}"},
                            context=json.dumps({"State": {"Name": "MyTaskState"}, "Task": {"Token": "abcd123"}}))
    assert json.loads(answer["inspectionData"]["afterParameters"])["MessageBody"]["TaskToken"] == "abcd123"


def _refusal(sfn: Any, definition: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        run_test_state(sfn, definition, **params)
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_mocks_of_maps_and_parallels_are_checked_as_aws_checks_them(sfn: Any) -> None:
    assert _refusal(sfn, MAP, input=INPUT, stateConfiguration={"mapIterationFailureCount": 1}) == (
        "ValidationException", "TestState does not support MapIterationFailureCount when a mock is not specified.")
    assert _refusal(sfn, MAP, input=INPUT, stateConfiguration={"mapIterationFailureCount": 4},
                    mock={"result": "[1,1,1]"}) == (
        "ValidationException", "Map iteration failure count must be less than or equal to the number of Map iterations")
    writer = dict(MAP, ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Arguments": {"Bucket": "b",
                                                                                             "Prefix": "p"}})
    assert _refusal(sfn, writer, input=INPUT, mock={"result": '["an array"]'}) == (
        "ValidationException", "Mocked result must be a JSON object.")
    assert _refusal(sfn, {"Type": "Parallel", "Branches": [], "End": True}, input="{}", mock={"result": "[]"}) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/StateName/Branches'")
    assert _refusal(sfn, {"Type": "Nope", "End": True}, input="{}") == (
        "InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should "
        "have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/StateName/Type'")


def test_a_named_state_sees_aws_test_state_name_and_its_variables_are_inspected(sfn: Any) -> None:
    machine = {"StartAt": "State0", "States": {"State0": {"Type": "Pass", "Parameters": {"name.$": "$$.State.Name",
                                                                                        "v.$": "$seen"},
                                                         "End": True}}}
    answer = run_test_state(sfn, machine, stateName="State0", input="{}", variables='{"seen": 7}',
                            inspectionLevel="TRACE")
    assert json.loads(answer["output"]) == {"name": "StateName", "v": 7}
    assert json.loads(answer["inspectionData"]["variables"]) == {"seen": 7}

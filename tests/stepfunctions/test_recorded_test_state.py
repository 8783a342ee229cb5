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

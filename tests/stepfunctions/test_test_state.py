"""TestState through boto3: inspection data at DEBUG, mocked results and errors (and AWS's checks of
them), a state picked from a whole state machine, variables and context, RETRIABLE and CAUGHT_ERROR."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/r"
TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f",
                                                                                      "Payload.$": "$"},
        "ResultSelector": {"got.$": "$.Payload"}, "ResultPath": "$.out", "End": True}


def run_test_state(sfn: Any, definition: Any, **params: Any) -> dict[str, Any]:
    return dict(sfn.test_state(definition=json.dumps(definition), roleArn=ROLE, **params))


def data(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if isinstance(v, str) else v for k, v in answer["inspectionData"].items()}


def test_info_shows_no_inspection_and_debug_shows_each_stage(sfn: Any) -> None:
    state = {"Type": "Pass", "InputPath": "$.in", "Parameters": {"v.$": "$.a"}, "ResultPath": "$.r", "End": True}
    assert "inspectionData" not in run_test_state(sfn, state, input='{"in": {"a": 1}}')
    answer = run_test_state(sfn, state, input='{"in": {"a": 1}}', inspectionLevel="DEBUG")
    assert data(answer) == {"input": {"in": {"a": 1}}, "afterInputPath": {"a": 1}, "afterParameters": {"v": 1},
                            "afterResultSelector": {"v": 1}, "afterResultPath": {"in": {"a": 1}, "r": {"v": 1}}}
    result = run_test_state(sfn, {"Type": "Pass", "Result": {"k": 2}, "End": True}, inspectionLevel="DEBUG")
    assert data(result) == {"input": {}, "result": {"k": 2}, "afterResultSelector": {"k": 2},
                            "afterResultPath": {"k": 2}}


def test_a_mocked_task_result_runs_through_the_state(sfn: Any) -> None:
    answer = run_test_state(sfn, TASK, input='{"x": 1}', inspectionLevel="DEBUG",
                        mock={"result": json.dumps({"Payload": {"y": 2}})})
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == {"x": 1, "out": {"got": {"y": 2}}}
    assert data(answer)["afterParameters"] == {"FunctionName": "f", "Payload": {"x": 1}}
    assert data(answer)["result"] == {"Payload": {"y": 2}}


def test_a_mocked_error_is_caught_or_retriable(sfn: Any) -> None:
    caught = dict(TASK, Catch=[{"ErrorEquals": ["MockException"], "Next": "Handle"}])
    answer = run_test_state(sfn, caught, inspectionLevel="DEBUG",
                        mock={"errorOutput": {"error": "MockException", "cause": "mocked"}})
    assert (answer["status"], answer["nextState"], answer["error"], answer["cause"]) == \
        ("CAUGHT_ERROR", "Handle", "MockException", "mocked")
    assert data(answer)["errorDetails"] == {"catchIndex": 0}
    retried = dict(TASK, Retry=[{"ErrorEquals": ["MockException"], "IntervalSeconds": 2, "MaxAttempts": 2}])
    answer = run_test_state(sfn, retried, inspectionLevel="DEBUG",
                        mock={"errorOutput": {"error": "MockException", "cause": "mocked"}})
    assert (answer["status"], answer["error"]) == ("RETRIABLE", "MockException")
    assert data(answer)["errorDetails"] == {"retryBackoffIntervalSeconds": 2, "retryIndex": 0}
    spent = run_test_state(sfn, retried, mock={"errorOutput": {"error": "MockException", "cause": "mocked"}},
                       stateConfiguration={"retrierRetryCount": 2})
    assert spent["status"] == "FAILED"


@pytest.mark.parametrize(("state", "mock", "code", "message"), [
    ({"Type": "Pass", "End": True}, {"result": "{}"}, "ValidationException",
     "State type 'Pass' is not supported when a mock is specified"),
    (TASK, {"result": "not JSON"}, "ValidationException", "Mocked result must be valid JSON"),
    (TASK, {"result": "{}", "errorOutput": {"error": "E"}}, "ValidationException",
     "A test mock should have only one of the following fields: [result, errorOutput]."),
    ({"Type": "Parallel", "End": True, "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}]},
     None, "InvalidDefinition", "TestState API does not support Map or Parallel states. Supported state types "
                                "include: [Task, Wait, Pass, Succeed, Fail, Choice]"),
    ({"Type": "Parallel", "End": True, "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}]},
     {"result": "[1, 2]"}, "ValidationException",
     "Mocked result must contain the same number of items as number of Parallel branches."),
])
def test_mocks_are_checked_as_aws_checks_them(sfn: Any, state: Any, mock: Any, code: str, message: str) -> None:
    with pytest.raises(ClientError) as err:
        run_test_state(sfn, state, **({"mock": mock} if mock is not None else {}))
    assert err.value.response["Error"] == {"Code": code, "Message": message}


def test_a_state_of_a_whole_machine_with_variables_and_context(sfn: Any) -> None:
    machine = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"v.$": "$seen", "id.$": "$$.Execution.Id", "sm.$": "$$.StateMachine.Name"},
              "Next": "C"},
        "C": {"Type": "Succeed"}}}
    answer = run_test_state(sfn, machine, stateName="B", variables='{"seen": 7}',
                        context='{"Execution": {"Id": "given-id"}, "StateMachine": {"Name": "given-sm"}}')
    output = json.loads(answer["output"])
    # AWS: a given context is the whole context object (recorded: {"Execution": {}} stays empty)
    assert (answer["status"], answer["nextState"], output["v"], output["id"], output["sm"]) == (
        "SUCCEEDED", "C", 7, "given-id", "given-sm")
    plain = json.loads(run_test_state(sfn, machine, stateName="B", variables='{"seen": 1}')["output"])
    assert plain["id"].startswith("arn:aws:states:us-east-1:000000000000:express:")
    assert plain["id"].split(":")[-2] == plain["sm"]


def test_a_mocked_map_shows_its_limits(sfn: Any) -> None:
    state = {"Type": "Map", "MaxConcurrency": 1, "ToleratedFailurePercentage": 1, "End": True,
             "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}
    answer = run_test_state(sfn, state, input="[1, 2]", inspectionLevel="DEBUG", mock={"result": "[10, 20]"})
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == [10, 20]
    assert data(answer) == {"input": [1, 2], "maxConcurrency": 1, "toleratedFailurePercentage": 1.0}

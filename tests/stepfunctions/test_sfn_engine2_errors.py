"""A catcher's error output as AWS records it, through boto3: a failure with neither error nor cause
(SendTaskFailure with neither) is caught as {"Error": null, "Cause": null}, directly and through a
Parallel state."""

from __future__ import annotations

import json
from typing import Any

from tests.stepfunctions.conftest import finished


def catching(task: dict[str, Any]) -> dict[str, Any]:
    return {**task, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}],
            "Next": "Caught"}


def run_failing_without_error(sfn: Any, make_machine: Any, unique: str, wrap_in_parallel: bool) -> Any:
    activity = sfn.create_activity(name=f"act-{unique}")["activityArn"]
    work = {"Type": "Task", "Resource": activity}
    if wrap_in_parallel:
        first = catching({"Type": "Parallel", "Branches": [
            {"StartAt": "Work", "States": {"Work": {**work, "End": True}}}]})
    else:
        first = catching(work)
    machine = make_machine({"StartAt": "First", "States": {
        "First": first, "Caught": {"Type": "Pass", "End": True}}})
    arn = sfn.start_execution(stateMachineArn=machine, input='{"job": 1}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"])
    described = finished(sfn, arn)
    assert described["status"] == "SUCCEEDED"
    return json.loads(described["output"])


def test_a_failure_without_error_or_cause_is_caught_as_both_null(sfn: Any, make_machine: Any,
                                                                 unique: str) -> None:
    output = run_failing_without_error(sfn, make_machine, unique, wrap_in_parallel=False)
    assert output == {"job": 1, "caught": {"Error": None, "Cause": None}}


def test_a_parallel_branch_failing_without_error_or_cause_is_caught_as_both_null(
        sfn: Any, make_machine: Any, unique: str) -> None:
    output = run_failing_without_error(sfn, make_machine, unique, wrap_in_parallel=True)
    assert output == {"job": 1, "caught": {"Error": None, "Cause": None}}


def test_an_error_without_a_cause_is_caught_without_one(sfn: Any, make_machine: Any, unique: str) -> None:
    machine = make_machine({"StartAt": "First", "States": {
        "First": catching({"Type": "Parallel", "Branches": [
            {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Boom"}}}]}),
        "Caught": {"Type": "Pass", "End": True}}})
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert json.loads(finished(sfn, arn)["output"]) == {"caught": {"Error": "Boom"}}

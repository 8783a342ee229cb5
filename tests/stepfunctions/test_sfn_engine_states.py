"""Flow states' history as AWS records it, through boto3: a retried Parallel state, States.Runtime
uncaught."""

from __future__ import annotations

from typing import Any

from tests.stepfunctions.conftest import run_to_end


def test_a_retried_parallel_records_parallel_state_failed_only_for_its_last_attempt(sfn: Any,
                                                                                    make_machine: Any) -> None:
    machine = make_machine({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Parallel", "Next": "Done",
                "Branches": [{"StartAt": "Boom", "States": {
                    "Boom": {"Type": "Fail", "Error": "FailureType", "Cause": "Cause description"}}}],
                "Retry": [{"ErrorEquals": ["FailureType"], "IntervalSeconds": 1, "BackoffRate": 1,
                           "MaxAttempts": 2}]},
        "Done": {"Type": "Pass", "End": True}}})
    described = run_to_end(sfn, machine)
    assert (described["error"], described["cause"]) == ("FailureType", "Cause description")
    events = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "ParallelStateEntered",
        "ParallelStateStarted", "FailStateEntered",
        "ParallelStateStarted", "FailStateEntered",
        "ParallelStateStarted", "FailStateEntered",
        "ParallelStateFailed", "ExecutionFailed"]
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3, 4, 5, 6, 7, 8, 9]


def test_a_catcher_naming_states_runtime_does_not_take_it(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "Bad", "States": {
        "Bad": {"Type": "Pass", "OutputPath": "$.no.such.path", "Next": "Done",
                "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "Caught"},
                          {"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True},
        "Done": {"Type": "Pass", "End": True}}})
    described = run_to_end(sfn, machine)
    assert described["status"] == "FAILED" and described["error"] == "States.Runtime"
    assert described["cause"].startswith("An error occurred while executing the state 'Bad' (entered at the event "
                                         "id #2). Invalid path '$.no.such.path'")
    types = [e["type"] for e in sfn.get_execution_history(executionArn=described["executionArn"])["events"]]
    assert types == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]

"""A distributed Map creates a Map Run: DescribeMapRun, ListMapRuns and UpdateMapRun through boto3."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.conftest import finished


def _distributed(processor_states: dict[str, Any], start: str, **extra: Any) -> dict[str, Any]:
    return {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "End": True, **extra,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": start, "States": processor_states}}}}


def test_a_distributed_map_records_a_map_run_with_its_counts_and_settings(sfn: Any, make_machine: Any) -> None:
    machine = make_machine(_distributed(
        {"Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": False, "Next": "Bad"}],
                   "Default": "Good"},
         "Bad": {"Type": "Fail", "Error": "Item.Bad"}, "Good": {"Type": "Pass", "End": True}},
        "Check", MaxConcurrency=2, ToleratedFailureCount=1, Label="orders"))
    items = [{"ok": True}, {"ok": False}, {"ok": True}]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"items": items}))["executionArn"]
    assert finished(sfn, arn)["status"] == "SUCCEEDED"

    runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    assert len(runs) == 1
    run_arn = runs[0]["mapRunArn"]
    machine_name = machine.split(":")[-1]
    assert run_arn.startswith(f"arn:aws:states:us-east-1:000000000000:mapRun:{machine_name}/orders:")
    assert runs[0]["executionArn"] == arn and runs[0]["stateMachineArn"] == machine
    assert "stopDate" in runs[0]
    started = [e for e in sfn.get_execution_history(executionArn=arn)["events"] if e["type"] == "MapRunStarted"]
    assert started[0]["mapRunStartedEventDetails"]["mapRunArn"] == run_arn

    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert (run["status"], run["executionArn"], run["maxConcurrency"]) == ("SUCCEEDED", arn, 2)
    assert (run["toleratedFailureCount"], run["toleratedFailurePercentage"]) == (1, 0.0)
    assert run["stopDate"] >= run["startDate"]
    counts = {"pending": 0, "running": 0, "succeeded": 2, "failed": 1, "timedOut": 0, "aborted": 0, "total": 3,
              "resultsWritten": 0, "failuresNotRedrivable": 0, "pendingRedrive": 0}
    assert run["itemCounts"] == counts and run["executionCounts"] == counts


def test_a_map_run_over_its_tolerated_failures_fails(sfn: Any, make_machine: Any) -> None:
    machine = make_machine(_distributed({"Bad": {"Type": "Fail", "Error": "Nope"}}, "Bad"))
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"items": [1, 2]}))["executionArn"]
    assert finished(sfn, arn)["error"] == "States.ExceedToleratedFailureThreshold"
    run = sfn.describe_map_run(mapRunArn=sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"])
    assert run["status"] == "FAILED"
    assert (run["itemCounts"]["failed"], run["itemCounts"]["total"]) == (2, 2)


def test_update_map_run_changes_a_running_map_runs_concurrency_and_tolerated_failures(
        sfn: Any, make_machine: Any) -> None:
    activity = sfn.create_activity(name=f"maprun-{time.monotonic_ns()}")["activityArn"]
    machine = make_machine(_distributed({"Work": {"Type": "Task", "Resource": activity, "End": True}}, "Work",
                                        MaxConcurrency=1))
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"items": [1, 2, 3]}))["executionArn"]
    deadline = time.monotonic() + 10
    while not sfn.list_map_runs(executionArn=arn)["mapRuns"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run_arn = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    first = sfn.get_activity_task(activityArn=activity)
    running = sfn.describe_map_run(mapRunArn=run_arn)
    assert running["status"] == "RUNNING" and "stopDate" not in running
    assert (running["itemCounts"]["running"], running["itemCounts"]["pending"]) == (1, 2)

    sfn.update_map_run(mapRunArn=run_arn, maxConcurrency=3, toleratedFailureCount=1)
    tasks = [sfn.get_activity_task(activityArn=activity) for _ in range(2)]  # both start now
    sfn.send_task_failure(taskToken=first["taskToken"], error="Oops")
    for task in tasks:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert finished(sfn, arn)["status"] == "SUCCEEDED"  # one failure is now tolerated
    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert (run["status"], run["maxConcurrency"], run["toleratedFailureCount"]) == ("SUCCEEDED", 3, 1)
    assert (run["itemCounts"]["succeeded"], run["itemCounts"]["failed"]) == (2, 1)


def test_unknown_map_runs_answer_resource_not_found(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:000000000000:mapRun:nothing/here:0f5cf3a4-4c1b-4a55-a1a2-0c0e6ad2d7a1"
    for call in (lambda: sfn.describe_map_run(mapRunArn=missing),
                 lambda: sfn.update_map_run(mapRunArn=missing, maxConcurrency=2)):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFound"

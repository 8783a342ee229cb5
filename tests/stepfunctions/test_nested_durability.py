"""A top-level Map's iterations and a Parallel's branches are checkpointed one by one: after SIGKILL
the state runs only what had not ended, and Waits and task tokens inside them pick up where they
stopped."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.stepfunctions.conftest import ROLE, finished, sfn_client


def _units(server: Any) -> dict[int, dict[str, Any]]:
    """The committed units, read from the server's database (what a restart will find)."""
    rows = server.query("SELECT unit, record FROM sfn_units")
    return {unit: json.loads(record) for unit, record in rows}


def _wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _bodies(sqs: Any, queue: str) -> list[str]:
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return list(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])


def test_a_map_runs_only_unfinished_iterations_after_sigkill_and_a_wait_inside_picks_up_where_it_was(
        fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    sqs = fresh_server.client("sqs")
    queue = sqs.create_queue(QueueName="iterations")["QueueUrl"]
    machine = sfn.create_state_machine(name="items", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Each", "States": {"Each": {
            "Type": "Map", "MaxConcurrency": 1, "ItemsPath": "$.items", "End": True,
            "ItemProcessor": {"StartAt": "Send", "States": {
                "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                         "Parameters": {"QueueUrl": queue, "MessageBody.$": "States.Format('item {}', $.i)"},
                         "ResultPath": None, "Next": "Sleep"},
                "Sleep": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Done"},
                "Done": {"Type": "Pass", "Parameters": {"done.$": "$.i"}, "End": True}}}}}}))["stateMachineArn"]
    items = [{"i": i, "wait": 600 if i == 3 else 0} for i in range(5)]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"items": items}))["executionArn"]
    _wait_for(lambda: (_units(fresh_server).get(3) or {}).get("status") == "parked")
    assert [_units(fresh_server)[i]["status"] for i in range(3)] == ["done"] * 3
    assert _bodies(sqs, queue) == ["item 0", "item 1", "item 2", "item 3"]
    until = _units(fresh_server)[3]["position"]["resume"]["until"]

    fresh_server.kill()
    fresh_server.start()
    sfn = sfn_client(fresh_server)
    sqs = fresh_server.client("sqs")
    time.sleep(0.3)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    assert _units(fresh_server)[3]["position"]["resume"]["until"] == until  # the Wait keeps its end
    fresh_server.advance_clock(601)
    done = finished(sfn, arn, timeout=20)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == [{"done": i} for i in range(5)]
    assert _bodies(sqs, queue) == ["item 4"]  # iterations 0-3 did not send again
    events = _history(sfn, arn)
    types = [e["type"] for e in events]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert types.count("MapIterationStarted") == 5 and types.count("MapIterationSucceeded") == 5
    assert types.count("TaskScheduled") == 5 and types.count("WaitStateEntered") == 5
    assert types[:4] == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted"]
    assert types[-3:] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    known = {e["id"] for e in events} | {0}
    assert all(e["previousEventId"] in known for e in events)
    assert _units(fresh_server) == {}


def test_a_parallel_branch_that_ended_does_not_run_again_and_a_branch_token_survives_sigkill(
        fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    sqs = fresh_server.client("sqs")
    queue = sqs.create_queue(QueueName="branches")["QueueUrl"]
    machine = sfn.create_state_machine(name="branches", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "SendA", "States": {"SendA": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": queue, "MessageBody": "A"}, "ResultSelector": {"a": "sent"},
                "End": True}}},
            {"StartAt": "Ask", "States": {"Ask": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True}}}]}}}))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    _wait_for(lambda: [u["status"] for _, u in sorted(_units(fresh_server).items())] == ["done", "parked"])
    bodies = _bodies(sqs, queue)
    assert sorted(bodies)[0] == "A" and len(bodies) == 2
    token = json.loads(sorted(bodies)[1])["token"]

    fresh_server.kill()
    fresh_server.start()
    sfn = sfn_client(fresh_server)
    sqs = fresh_server.client("sqs")
    sfn.send_task_success(taskToken=token, output='{"b": "answered"}')
    done = finished(sfn, arn, timeout=20)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", [{"a": "sent"}, {"b": "answered"}])
    fresh_server.advance_clock(60)
    assert _bodies(sqs, queue) == []  # neither branch sent again
    events = _history(sfn, arn)
    types = [e["type"] for e in events]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert types.count("TaskScheduled") == 2 and types.count("TaskSucceeded") == 2
    assert types[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]

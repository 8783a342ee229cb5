"""A STANDARD execution parked in a Wait state survives SIGKILL: its checkpoint and durable timer
are in the database, and the restarted server finishes it when (test-advanced) time comes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.conftest import ROLE, finished, sfn_client


def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_a_waiting_execution_completes_after_sigkill_and_restart(fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    machine = sfn.create_state_machine(name="durable", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Before", "States": {
            "Before": {"Type": "Pass", "Result": {"step": 1}, "Next": "Sleep"},
            "Sleep": {"Type": "Wait", "Seconds": 600, "Next": "After"},
            "After": {"Type": "Pass", "Parameters": {"step.$": "States.MathAdd($.step, 1)"}, "End": True}}}))[
        "stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="survivor")["executionArn"]

    def waiting() -> bool:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        return any(e["type"] == "WaitStateEntered" for e in events)

    _wait_for(waiting)
    fresh_server.kill()
    fresh_server.start()
    sfn = sfn_client(fresh_server)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    fresh_server.advance_clock(601)
    done = finished(sfn, arn, timeout=15)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"step": 2}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
                     "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    ids = [e["id"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert ids == list(range(1, 9))


def test_running_executions_resume_after_restart(fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    machine = sfn.create_state_machine(name="resume", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
                                       "Done": {"Type": "Succeed"}}}))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    fresh_server.restart()
    sfn = sfn_client(fresh_server)
    fresh_server.advance_clock(10)
    assert finished(sfn, arn, timeout=15)["status"] == "SUCCEEDED"


def test_execution_timeout_seconds_ends_a_long_wait_as_timed_out(fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    machine = sfn.create_state_machine(name="timeout", roleArn=ROLE, definition=json.dumps({
        "TimeoutSeconds": 5, "StartAt": "Sleep", "States": {
            "Sleep": {"Type": "Wait", "Seconds": 60, "Next": "Done"}, "Done": {"Type": "Succeed"}}}))[
        "stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    fresh_server.advance_clock(6)
    done = finished(sfn, arn, timeout=15)
    # AWS describes an execution its TimeoutSeconds ended with no error (LocalStack's recording)
    assert done["status"] == "TIMED_OUT" and "error" not in done
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types[-1] == "ExecutionTimedOut"


def test_a_task_without_heartbeats_times_out_with_heartbeat_timeout(fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    activity = sfn.create_activity(name="beats")["activityArn"]
    machine = sfn.create_state_machine(name="beats", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "HeartbeatSeconds": 30,
                                               "End": True}}}))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    token = sfn.get_activity_task(activityArn=activity)["taskToken"]
    fresh_server.advance_clock(20)
    sfn.send_task_heartbeat(taskToken=token)
    fresh_server.advance_clock(20)
    time.sleep(0.5)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    fresh_server.advance_clock(31)
    done = finished(sfn, arn, timeout=15)
    assert (done["status"], done["error"]) == ("FAILED", "States.HeartbeatTimeout")


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return list(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])


def test_an_activity_token_handed_out_before_sigkill_completes_the_execution_after_restart(
        fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    activity = sfn.create_activity(name="approve")["activityArn"]
    machine = sfn.create_state_machine(name="approval", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Approve", "States": {
            "Approve": {"Type": "Task", "Resource": activity, "ResultPath": "$.decision", "Next": "Done"},
            "Done": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"order": 7}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    assert json.loads(task["input"]) == {"order": 7}

    fresh_server.kill()
    fresh_server.start()
    sfn = sfn_client(fresh_server)
    sfn.send_task_success(taskToken=task["taskToken"], output='{"approved": true}')
    done = finished(sfn, arn, timeout=15)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"order": 7, "decision": {"approved": True}}
    types = [e["type"] for e in _history(sfn, arn)]
    assert types == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
                     "ActivitySucceeded", "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in _history(sfn, arn)] == list(range(1, 10))


def test_an_activity_task_not_yet_handed_out_is_offered_again_after_sigkill(fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    activity = sfn.create_activity(name="later")["activityArn"]
    machine = sfn.create_state_machine(name="later", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}}))[
        "stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"n": 1}')["executionArn"]
    _wait_for(lambda: "ActivityScheduled" in [e["type"] for e in _history(sfn, arn)])

    fresh_server.kill()
    fresh_server.start()
    sfn = sfn_client(fresh_server)
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Rejected", cause="no stock")
    done = finished(sfn, arn, timeout=15)
    assert (done["status"], done["error"], done["cause"]) == ("FAILED", "Rejected", "no stock")
    types = [e["type"] for e in _history(sfn, arn)]
    assert types.count("ActivityScheduled") == 1 and types[-3:] == ["ActivityStarted", "ActivityFailed",
                                                                     "ExecutionFailed"]


def test_a_wait_for_task_token_sent_through_sqs_survives_sigkill_without_a_second_message(
        fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    sqs = fresh_server.client("sqs")
    queue = sqs.create_queue(QueueName="callbacks")["QueueUrl"]
    machine = sfn.create_state_machine(name="callback", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Ask", "States": {"Ask": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}}))[
        "stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"]
    token = json.loads(messages[0]["Body"])["token"]

    fresh_server.kill()
    fresh_server.start()
    sfn = sfn_client(fresh_server)
    sqs = fresh_server.client("sqs")
    sfn.send_task_success(taskToken=token, output='{"answer": 42}')
    done = finished(sfn, arn, timeout=15)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"answer": 42})
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])
    fresh_server.advance_clock(60)  # past any visibility timeout: only a second send would show up
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)
    with pytest.raises(ClientError) as err:  # the token is spent
        sfn.send_task_success(taskToken=token, output="{}")
    assert err.value.response["Error"]["Code"] in ("InvalidToken", "TaskTimedOut")


def test_a_retry_back_off_is_a_durable_timer_that_survives_sigkill(fresh_server: Any) -> None:
    sfn = sfn_client(fresh_server)
    sqs = fresh_server.client("sqs")
    missing = f"{fresh_server.url}/000000000000/not-yet"
    machine = sfn.create_state_machine(name="retrying", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Send", "States": {"Send": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": missing, "MessageBody": "hello"}, "ResultSelector": {"sent": True},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 300, "MaxAttempts": 2}],
            "End": True}}}))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    _wait_for(lambda: "TaskFailed" in [e["type"] for e in _history(sfn, arn)])

    fresh_server.kill()
    fresh_server.start()
    sfn = sfn_client(fresh_server)
    sqs = fresh_server.client("sqs")
    sqs.create_queue(QueueName="not-yet")
    time.sleep(0.3)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"  # still backing off
    fresh_server.advance_clock(301)
    done = finished(sfn, arn, timeout=15)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"sent": True})
    events = _history(sfn, arn)
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "TaskScheduled",
        "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == list(range(1, 11))
    assert sqs.receive_message(QueueUrl=missing)["Messages"][0]["Body"] == "hello"

"""A STANDARD execution parked in a Wait state survives SIGKILL: its checkpoint and durable timer
are in the database, and the restarted server finishes it when (test-advanced) time comes."""

from __future__ import annotations

import json
import time
from typing import Any

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
    assert (done["status"], done["error"]) == ("TIMED_OUT", "States.Timeout")
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

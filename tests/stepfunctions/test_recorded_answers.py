"""Answers shaped as AWS recorded them (LocalStack's AWS-validated Step Functions snapshots)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

from tests.stepfunctions.conftest import ROLE, finished, run_to_end

FAILING = """
def handler(event, context):
    raise Exception("Some exception was raised.")
"""


def _zip(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", code)
    return buffer.getvalue()


def _function(server: Any, name: str) -> str:
    lam = server.client("lambda")
    return str(lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                   Role="arn:aws:iam::000000000000:role/lambda-role",
                                   Code={"ZipFile": _zip(FAILING)})["FunctionArn"])


def test_optimized_lambda_error_cause_is_compact_json(server: Any, sfn: Any, make_machine: Any,
                                                      unique: str) -> None:
    """lambda:invoke re-serializes the function's error payload compactly; a plain function ARN
    passes the payload on as the function wrote it."""
    name = f"sfn-fail-{unique}"
    arn = _function(server, name)
    try:
        machine = make_machine({"StartAt": "Optimized", "States": {
            "Optimized": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                          "Parameters": {"FunctionName": name, "Payload.$": "$"},
                          "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.optimized",
                                     "Next": "Plain"}], "End": True},
            "Plain": {"Type": "Task", "Resource": arn,
                      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.plain", "Next": "Done"}],
                      "End": True},
            "Done": {"Type": "Pass", "End": True}}})
        done = run_to_end(sfn, machine, {}, timeout=60)
        assert done["status"] == "SUCCEEDED", done
        output = json.loads(done["output"])
        optimized, plain = output["optimized"]["Cause"], output["plain"]["Cause"]
        assert optimized.startswith('{"errorMessage":"Some exception was raised.","errorType":"Exception",')
        assert plain.startswith('{"errorMessage": "Some exception was raised.", "errorType": "Exception"')
        assert json.loads(optimized) == json.loads(plain) | {"requestId": json.loads(optimized)["requestId"]}
    finally:
        server.client("lambda").delete_function(FunctionName=name)


def test_a_token_task_missing_its_heartbeat_times_out_with_states_timeout(fresh_server: Any) -> None:
    """AWS records a .waitForTaskToken task whose heartbeat never came as States.Timeout in
    TaskTimedOut and ExecutionFailed (an activity's is States.HeartbeatTimeout)."""
    sfn = fresh_server.client("stepfunctions")
    queue = fresh_server.client("sqs").create_queue(QueueName="beats")["QueueUrl"]
    machine = sfn.create_state_machine(name="beats", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Send", "States": {"Send": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "TimeoutSeconds": 600, "HeartbeatSeconds": 5,
            "Parameters": {"QueueUrl": queue, "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
            "End": True}}}))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    deadline = time.monotonic() + 10
    while "TaskSubmitted" not in [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    fresh_server.advance_clock(6)
    done = finished(sfn, arn, timeout=15)
    assert (done["status"], done["error"]) == ("FAILED", "States.Timeout")
    events = sfn.get_execution_history(executionArn=arn)["events"]
    timed_out = [e for e in events if e["type"] == "TaskTimedOut"]
    assert timed_out[0]["taskTimedOutEventDetails"]["error"] == "States.Timeout"


def test_a_seconds_path_selecting_nothing_fails_with_aws_wording(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.input.waitSeconds",
                                                            "End": True}}})
    done = run_to_end(sfn, machine, {})
    assert (done["status"], done["error"]) == ("FAILED", "States.Runtime")
    assert done["cause"] == ("An error occurred while executing the state 'W' (entered at the event id #2). "
                             "The SecondsPath parameter does not reference an input value: $.input.waitSeconds")


def test_a_sync_express_execution_answers_as_recorded(server: Any, make_machine: Any) -> None:
    from tests.stepfunctions.conftest import sfn_client
    sfn = sfn_client(server)
    context = make_machine({"StartAt": "Q", "States": {"Q": {"Type": "Pass", "Parameters": {"execution.$": "$$.Execution"},
                                                            "End": True}}}, type_="EXPRESS")
    answer = sfn.start_sync_execution(stateMachineArn=context, input="{}")
    assert "RedriveCount" not in json.loads(answer["output"])["execution"]  # AWS: none for a sync run
    failing = make_machine({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}},
                           type_="EXPRESS")
    failed = sfn.start_sync_execution(stateMachineArn=failing, input="{}")
    assert failed["status"] == "FAILED" and "output" not in failed
    assert failed["outputDetails"] == {"included": True}


def test_start_execution_sync_with_a_null_input_and_a_failing_child(sfn: Any, make_machine: Any) -> None:
    child = make_machine({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "SomeFailure",
                                                            "Cause": "it failed"}}})
    parent = make_machine({"StartAt": "S", "States": {"S": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
        "Parameters": {"StateMachineArn.$": "$.arn", "Input.$": "$.input"}, "End": True}}})
    done = run_to_end(sfn, parent, {"arn": child, "input": None})
    assert (done["status"], done["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(done["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"], cause["Input"]) == ("FAILED", "SomeFailure",
                                                                                 "it failed", "{}")
    assert cause["InputDetails"] == {"Included": True} and "executionArn" not in cause


def test_a_sync_task_has_a_task_token_in_its_context(sfn: Any, make_machine: Any) -> None:
    """AWS's recording: a startExecution.sync task may pass $$.Task.Token on (it does not wait for it)."""
    child = make_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    parent = make_machine({"StartAt": "S", "States": {"S": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Input": {"TaskToken.$": "$$.Task.Token"}}, "End": True}}})
    done = run_to_end(sfn, parent, {})
    assert done["status"] == "SUCCEEDED", done
    token = json.loads(done["output"])["Output"]["TaskToken"]
    assert isinstance(token, str) and token

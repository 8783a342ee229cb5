"""Executions end to end through boto3: start/describe/list/stop/history/redrive, EXPRESS sync,
activities, task tokens and TestState."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.conftest import finished, history_types, run_to_end


def code(excinfo: Any) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_a_standard_execution_runs_to_success_with_aws_history(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "Next": "B"},
        "B": {"Type": "Succeed"}}})
    done = run_to_end(sfn, machine, {"a": 1, "b": 2})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"sum": 3}
    assert history_types(sfn, done["executionArn"]) == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "SucceedStateEntered", "SucceedStateExited",
        "ExecutionSucceeded"]
    events = sfn.get_execution_history(executionArn=done["executionArn"], reverseOrder=True)["events"]
    assert events[0]["type"] == "ExecutionSucceeded" and events[0]["id"] == 6
    listed = sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")["executions"]
    assert [e["executionArn"] for e in listed] == [done["executionArn"]]


def test_execution_names_are_unique(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    arn = sfn.start_execution(stateMachineArn=machine, name="once", input="{}")["executionArn"]
    finished(sfn, arn)
    with pytest.raises(ClientError) as err:
        sfn.start_execution(stateMachineArn=machine, name="once", input='{"other": 1}')
    assert code(err) == "ExecutionAlreadyExists"
    with pytest.raises(ClientError) as err:
        sfn.start_execution(stateMachineArn=machine, input="{not json")
    assert code(err) == "InvalidExecutionInput"


def test_a_failing_execution_reports_error_and_cause(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "why"}}})
    done = run_to_end(sfn, machine)
    assert (done["status"], done["error"], done["cause"]) == ("FAILED", "Bad", "why")
    assert history_types(sfn, done["executionArn"])[-1] == "ExecutionFailed"


def test_saga_compensates_when_a_step_fails(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "Reserve", "States": {
        "Reserve": {"Type": "Pass", "Result": "reserved", "ResultPath": "$.reservation", "Next": "Charge"},
        "Charge": {"Type": "Fail", "Error": "PaymentDeclined", "Cause": "card"},
        "Compensate": {"Type": "Pass", "End": True}}} | {"StartAt": "Book"} | {"States": {
            "Book": {"Type": "Parallel", "Branches": [{"StartAt": "Reserve", "States": {
                "Reserve": {"Type": "Pass", "Result": "reserved", "ResultPath": "$.reservation", "Next": "Charge"},
                "Charge": {"Type": "Fail", "Error": "PaymentDeclined", "Cause": "card"}}}],
                "Catch": [{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "CancelReservation"}],
                "Next": "Done"},
            "CancelReservation": {"Type": "Pass", "Result": "cancelled", "ResultPath": "$.reservation",
                                  "Next": "Failed"},
            "Failed": {"Type": "Fail", "Error": "BookingFailed", "Cause": "compensated"},
            "Done": {"Type": "Succeed"}}})
    done = run_to_end(sfn, machine, {"order": 7})
    assert (done["status"], done["error"]) == ("FAILED", "BookingFailed")
    types = history_types(sfn, done["executionArn"])
    assert "ParallelStateFailed" in types and types.index("ParallelStateFailed") < types.index(
        "FailStateEntered", types.index("ParallelStateFailed"))


def test_map_over_100_items_with_max_concurrency(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 10, "End": True,
        "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"StartAt": "Double", "States": {"Double": {
            "Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, $.n)"}, "OutputPath": "$.v", "End": True}}}}}})
    done = run_to_end(sfn, machine, {"items": list(range(100))})
    assert json.loads(done["output"]) == [2 * i for i in range(100)]
    assert history_types(sfn, done["executionArn"]).count("MapIterationSucceeded") == 100


def test_express_state_machines_run_synchronously(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "Output": {"greeting": "{% 'hello ' & $states.input.name %}"}, "End": True}}}, "EXPRESS")
    answer = sfn.start_sync_execution(stateMachineArn=machine, input='{"name": "ada"}')
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"greeting": "hello ada"}
    assert ":express:" in answer["executionArn"]
    standard = make_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    with pytest.raises(ClientError) as err:
        sfn.start_sync_execution(stateMachineArn=standard)
    assert code(err) == "StateMachineTypeNotSupported"


def test_stop_execution_aborts_a_waiting_execution(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    sfn.stop_execution(executionArn=arn, error="Stopped", cause="by test")
    done = sfn.describe_execution(executionArn=arn)
    assert (done["status"], done["error"], done["cause"]) == ("ABORTED", "Stopped", "by test")
    aborted = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"][0]
    assert aborted["type"] == "ExecutionAborted"
    assert aborted["previousEventId"] == 0  # as AWS records it
    assert aborted["executionAbortedEventDetails"] == {"error": "Stopped", "cause": "by test"}


def test_redrive_restarts_a_failed_execution_from_the_failed_state(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Fail", "Error": "Once"}}})
    done = run_to_end(sfn, machine)
    assert done["status"] == "FAILED" and done["redriveStatus"] == "REDRIVABLE"
    sfn.redrive_execution(executionArn=done["executionArn"])
    again = finished(sfn, done["executionArn"])
    assert again["redriveCount"] == 1
    assert "ExecutionRedriven" in history_types(sfn, done["executionArn"])
    with pytest.raises(ClientError) as err:
        sfn.redrive_execution(executionArn="arn:aws:states:us-east-1:000000000000:execution:x:y")
    assert code(err) == "ExecutionDoesNotExist"


def test_activity_workers_poll_tasks_and_send_results(sfn: Any, make_machine: Any, unique: str) -> None:
    activity = sfn.create_activity(name=f"act-{unique}")["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["name"] == f"act-{unique}"
    machine = make_machine({"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": activity, "End": True}}})
    arn = sfn.start_execution(stateMachineArn=machine, input='{"job": 1}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w")
    assert json.loads(task["input"]) == {"job": 1}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"done": true}')
    assert json.loads(finished(sfn, arn)["output"]) == {"done": True}
    with pytest.raises(ClientError) as err:
        sfn.send_task_success(taskToken="nope", output="{}")
    assert code(err) == "InvalidToken"
    sfn.delete_activity(activityArn=activity)
    with pytest.raises(ClientError) as err:
        sfn.describe_activity(activityArn=activity)
    assert code(err) == "ActivityDoesNotExist"


def test_wait_for_task_token_round_trip_through_sqs(server: Any, sfn: Any, make_machine: Any, unique: str) -> None:
    sqs = server.client("sqs")
    queue = sqs.create_queue(QueueName=f"tokens-{unique}")["QueueUrl"]
    machine = make_machine({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
        "Catch": [{"ErrorEquals": ["Rejected"], "Next": "No"}], "End": True},
        "No": {"Type": "Pass", "Result": "rejected", "End": True}}})
    ok = sfn.start_execution(stateMachineArn=machine, input='{"order": 1}')["executionArn"]
    message = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"][0]
    body = json.loads(message["Body"])
    assert body["order"] == 1
    sfn.send_task_success(taskToken=body["token"], output='{"approved": true}')
    assert json.loads(finished(sfn, ok)["output"]) == {"approved": True}
    events = sfn.get_execution_history(executionArn=ok)["events"]
    assert [e["type"] for e in events][2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    sent = json.loads(events[4]["taskSubmittedEventDetails"]["output"])  # SQS's answer, with the SDK's metadata
    assert sent["MessageId"] == message["MessageId"]
    answer = {k: v for k, v in sent.items() if not k.startswith("Sdk")}  # SQS's own answer, as sent compactly
    assert sent["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == \
        str(len(json.dumps(answer, separators=(",", ":")).encode()))
    assert sent["SdkResponseMetadata"]["RequestId"] == sent["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]
    no = sfn.start_execution(stateMachineArn=machine, input='{"order": 2}')["executionArn"]
    body = json.loads(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"][0]["Body"])
    sfn.send_task_failure(taskToken=body["token"], error="Rejected", cause="no stock")
    assert finished(sfn, no)["output"] == '"rejected"'


def test_sqs_integration_errors_become_task_failures(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "Send", "States": {"Send": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True,
        "Parameters": {"QueueUrl": "http://localhost/000000000000/missing-queue", "MessageBody": "x"}}}})
    done = run_to_end(sfn, machine)
    assert done["status"] == "FAILED"
    assert done["error"].startswith("SQS.")


def test_aws_sdk_integration_calls_another_service(server: Any, sfn: Any, make_machine: Any, unique: str) -> None:
    machine = make_machine({"StartAt": "Create", "States": {"Create": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:createQueue",
        "Parameters": {"QueueName": f"sdk-{unique}"}, "ResultSelector": {"url.$": "$.QueueUrl"}, "End": True}}})
    done = run_to_end(sfn, machine)
    assert json.loads(done["output"])["url"].endswith(f"/sdk-{unique}")
    assert server.client("sqs").get_queue_url(QueueName=f"sdk-{unique}")["QueueUrl"]


def test_nested_start_execution_sync_returns_the_child_output(sfn: Any, make_machine: Any) -> None:
    child = make_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"child": 1}, "End": True}}})
    parent = make_machine({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Input": {"x": 1}}, "OutputPath": "$.Output", "End": True}}})
    done = run_to_end(sfn, parent)
    assert json.loads(done["output"]) == {"child": 1}
    events = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
    assert [e["type"] for e in events][2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
    assert set(submitted) == {"ExecutionArn", "StartDate", "SdkHttpMetadata", "SdkResponseMetadata"}
    result = json.loads(events[5]["taskSucceededEventDetails"]["output"])  # DescribeExecution, SDK-named
    assert (result["Input"], result["Output"], result["Status"]) == ({"x": 1}, {"child": 1}, "SUCCEEDED")
    assert result["InputDetails"] == {"Included": True} and isinstance(result["StopDate"], int)


def test_test_state_runs_one_state(sfn: Any) -> None:
    answer = sfn.test_state(definition=json.dumps({"Type": "Pass", "Parameters": {"v.$": "$.a"}, "Next": "X"}),
                            roleArn="arn:aws:iam::000000000000:role/r", input='{"a": 5}')
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == {"v": 5}
    assert answer["nextState"] == "X"
    failed = sfn.test_state(definition=json.dumps({"Type": "Fail", "Error": "E", "Cause": "c"}),
                            roleArn="arn:aws:iam::000000000000:role/r")
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "E", "c")


def test_jsonata_and_jsonpath_workflows_agree_end_to_end(sfn: Any, make_machine: Any) -> None:
    jsonpath = make_machine({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}],
              "Default": "Small"},
        "Big": {"Type": "Pass", "Parameters": {"size": "big", "n.$": "$.n"}, "End": True},
        "Small": {"Type": "Pass", "Parameters": {"size": "small", "n.$": "$.n"}, "End": True}}})
    jsonata = make_machine({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n > 5 %}", "Next": "Big"}],
              "Default": "Small"},
        "Big": {"Type": "Pass", "Output": {"size": "big", "n": "{% $states.input.n %}"}, "End": True},
        "Small": {"Type": "Pass", "Output": {"size": "small", "n": "{% $states.input.n %}"}, "End": True}}})
    for n in (1, 9):
        assert json.loads(run_to_end(sfn, jsonpath, {"n": n})["output"]) == json.loads(
            run_to_end(sfn, jsonata, {"n": n})["output"])


def test_describe_state_machine_for_execution(sfn: Any, make_machine: Any) -> None:
    machine = make_machine({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    done = run_to_end(sfn, machine)
    assert sfn.describe_state_machine_for_execution(executionArn=done["executionArn"])["stateMachineArn"] == machine


__all__ = ["threading", "time"]


def test_an_input_that_passes_through_unchanged_keeps_its_text(sfn: Any, make_machine: Any) -> None:
    """AWS prints a document that no state changed as the client sent it, inside arrays too."""
    inner = {"StartAt": "P2", "States": {"P2": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}}}
    machine = make_machine({"StartAt": "P1", "States": {"P1": {"Type": "Parallel", "Next": "Changed",
                                                                "Branches": [inner]},
                                                         "Changed": {"Type": "Pass", "Result": [[1, 2]], "End": True}}})
    sent = "[[1, 2, 3], [4, 5, 6]]"
    arn = sfn.start_execution(stateMachineArn=machine, input=sent)["executionArn"]
    finished(sfn, arn)
    events = sfn.get_execution_history(executionArn=arn)["events"]
    entered = [e["stateEnteredEventDetails"] for e in events if "stateEnteredEventDetails" in e]
    assert [e["input"] for e in entered[:3]] == [sent, sent, sent]
    exited = {e["stateExitedEventDetails"]["name"]: e["stateExitedEventDetails"]["output"]
              for e in events if "stateExitedEventDetails" in e}
    assert exited["P1"] == f"[[{sent}]]"
    assert exited["Changed"] == "[[1,2]]"  # what a state makes is printed compactly


def test_optimized_integrations_name_errors_as_aws_java_sdk_v1_does(sfn: Any, make_machine: Any) -> None:
    missing = "arn:aws:states:us-east-1:000000000000:stateMachine:nowhere"
    machine = make_machine({"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": True,
        "Parameters": {"StateMachineArn": missing}}}})
    done = run_to_end(sfn, machine)
    assert done["error"] == "StepFunctions.StateMachineDoesNotExistException"
    prefix = (f"State Machine Does Not Exist: '{missing}' (Service: AWSStepFunctions; Status Code: 400; "
              "Error Code: StateMachineDoesNotExist; Request ID: ")
    assert done["cause"].startswith(prefix) and done["cause"].endswith("; Proxy: null)")

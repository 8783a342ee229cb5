"""`states:startExecution` (plain, `.sync`, `.sync:2`) and `aws-sdk:sfn:startExecution` as AWS
answers them: the Java SDK's metadata with the length of AWS's answer, the child's description
with its redrive fields, a `.sync` task ended by its own token, and the aws-sdk form's implicit
JSON serialisation and ISO 8601 times."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from eventyard.services.stepfunctions.sdk_metadata import java_double
from tests.stepfunctions.conftest import finished, run_to_end

CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}}


def _start(resource: str) -> dict[str, Any]:
    return {"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": resource,
        "Parameters": {"StateMachineArn.$": "$.StateMachineArn", "Input.$": "$.Input", "Name.$": "$.Name"},
        "End": True}}}


def test_java_double_is_javas_double_to_string() -> None:
    assert [java_double(x) for x in (1701234567.891, 1701234567.89, 1234.5, 12.0, 1e7, 1e-4, 0)] == [
        "1.701234567891E9", "1.70123456789E9", "1234.5", "12.0", "1.0E7", "1.0E-4", "0.0"]


def test_start_execution_answers_with_the_sdk_metadata(sfn: Any, make_machine: Any, unique: str) -> None:
    child = make_machine(CHILD)
    parent = make_machine(_start("arn:aws:states:::states:startExecution"))
    done = run_to_end(sfn, parent, {"StateMachineArn": child, "Input": {"Hello": "World"}, "Name": f"c-{unique}"})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert set(output) == {"ExecutionArn", "StartDate", "SdkHttpMetadata", "SdkResponseMetadata"}
    child_execution = sfn.describe_execution(executionArn=output["ExecutionArn"])
    assert json.loads(child_execution["input"]) == {"Hello": "World"}
    assert output["StartDate"] == round(child_execution["startDate"].timestamp() * 1000)
    headers = output["SdkHttpMetadata"]["HttpHeaders"]
    # AWS's answer: {"executionArn":"...","startDate":1.701234567891E9}
    body = f'{{"executionArn":"{output["ExecutionArn"]}","startDate":{java_double(output["StartDate"] / 1000)}}}'
    assert headers["Content-Length"] == str(len(body))
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert output["SdkResponseMetadata"] == {"RequestId": headers["x-amzn-RequestId"]}


def test_sync_answers_the_childs_description_with_its_redrive_fields(sfn: Any, make_machine: Any,
                                                                     unique: str) -> None:
    child = make_machine(CHILD)
    for resource, output in (("startExecution.sync", '{"Arg1":"argument1"}'),
                             ("startExecution.sync:2", {"Arg1": "argument1"})):
        parent = make_machine(_start(f"arn:aws:states:::states:{resource}"))
        done = run_to_end(sfn, parent, {"StateMachineArn": child, "Input": None, "Name": f"{unique}-{len(resource)}"})
        assert done["status"] == "SUCCEEDED", done
        described = json.loads(done["output"])
        assert described["Output"] == output
        assert described["Input"] == ("{}" if resource.endswith(".sync") else {})
        assert (described["Status"], described["RedriveCount"], described["RedriveStatus"],
                described["RedriveStatusReason"]) == (
            "SUCCEEDED", 0, "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
        assert {"InputDetails", "OutputDetails", "StartDate", "StopDate", "StateMachineArn"} <= set(described)


def test_a_sync_task_ends_when_its_own_token_is_answered(server: Any, sfn: Any, make_machine: Any,
                                                         unique: str) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=f"sync-token-{unique}")["QueueUrl"]
    child = make_machine({"StartAt": "Send", "States": {
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl.$": "$.QueueUrl", "MessageBody.$": "$.TaskToken"}, "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 600, "End": True}}})
    parent = make_machine({"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
        "Parameters": {"StateMachineArn": child, "Input": {"QueueUrl": url, "TaskToken.$": "$$.Task.Token"}},
        "End": True}}})
    arn = sfn.start_execution(stateMachineArn=parent, input="{}")["executionArn"]
    token = None
    deadline = time.monotonic() + 20
    while token is None and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []):
            token = message["Body"]
    assert token is not None
    sfn.send_task_success(taskToken=token, output='"interrupted"')
    done = finished(sfn, arn)
    assert (done["status"], done["output"]) == ("SUCCEEDED", '"interrupted"')


def test_aws_sdk_start_execution_sends_json_input_as_text_and_shows_iso_times(
        sfn: Any, make_machine: Any, unique: str) -> None:
    child = make_machine(CHILD)
    parent = make_machine({"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
        "Parameters": {"StateMachineArn": child, "Input": {"key": "value"}}, "End": True}}})
    done = run_to_end(sfn, parent, {})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert set(output) == {"ExecutionArn", "StartDate"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", output["StartDate"])
    child_execution = finished(sfn, output["ExecutionArn"])
    assert child_execution["input"] == '{"key":"value"}'

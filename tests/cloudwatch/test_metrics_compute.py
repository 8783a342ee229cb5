"""AWS/Lambda and AWS/States as the services publish them: the invocation metrics by function, version
and alias (Resource, ExecutedVersion), the asynchronous-event metrics (received, age, dropped, refused
destinations and dead-letter queues), throttles and concurrency; Step Functions' execution metrics of
standard and express workflows, redrives, and the per-task-type metrics of service integrations, Lambda
functions named directly and activities."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.config import Config

from tests.cloudwatch.conftest import wait_for
from tests.cloudwatch.metric_checks import Metric, assert_published
from tests.conftest import CLIENT_CONFIG, ServerProcess
from tests.lambda_.conftest import ROLE, make_zip

HANDLER = '''
def handler(event, context):
    if event.get("fail"):
        raise ValueError("refused")
    return {"ok": True}
'''
ACCOUNT = "000000000000"


def _function(lam: Any, name: str) -> str:
    arn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": make_zip({"app.py": HANDLER})}, Timeout=30)["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
    return str(arn)


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _updated(lam: Any, name: str) -> None:
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})


def test_a_function_publishes_invocations_by_version_and_alias_and_its_async_failures(
        clocked: ServerProcess) -> None:
    lam, sqs, cw = clocked.client("lambda"), clocked.client("sqs"), clocked.client("cloudwatch")
    _function(lam, "worker")
    version = lam.publish_version(FunctionName="worker")["Version"]
    lam.create_alias(FunctionName="worker", Name="live", FunctionVersion=version)
    for qualifier in (None, "live", version):
        answer = lam.invoke(FunctionName="worker", Payload=b"{}", **({"Qualifier": qualifier} if qualifier else {}))
        assert json.loads(answer["Payload"].read()) == {"ok": True}
    destination_url, destination = _queue(sqs, "destination")
    lam.put_function_event_invoke_config(FunctionName="worker", MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": destination}})
    sqs.delete_queue(QueueUrl=destination_url)
    lam.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"fail": true}')
    function, live = {"FunctionName": "worker"}, {"FunctionName": "worker", "Resource": "worker:live"}
    assert_published(cw, clocked, [
        Metric("AWS/Lambda", "Invocations", function, "Count", value=4),
        Metric("AWS/Lambda", "Invocations", {}, "Count", value=4),
        Metric("AWS/Lambda", "Invocations", live, "Count", value=1),
        Metric("AWS/Lambda", "Invocations", {**live, "ExecutedVersion": version}, "Count", value=1),
        Metric("AWS/Lambda", "Invocations", {"FunctionName": "worker", "Resource": f"worker:{version}"}, "Count",
               value=1),
        Metric("AWS/Lambda", "Errors", function, "Count", value=1),
        Metric("AWS/Lambda", "Duration", live, "Milliseconds", "SampleCount", 1),
        Metric("AWS/Lambda", "Duration", {**live, "ExecutedVersion": version}, "Milliseconds", "SampleCount", 1),
        Metric("AWS/Lambda", "AsyncEventsReceived", function, "Count", value=1),
        Metric("AWS/Lambda", "AsyncEventAge", function, "Milliseconds", "SampleCount", 1),
        Metric("AWS/Lambda", "AsyncEventsDropped", function, "Count", value=1),
        Metric("AWS/Lambda", "DestinationDeliveryFailures", function, "Count", value=1),
        Metric("AWS/Lambda", "ConcurrentExecutions", function, "Count", "Maximum"),
        Metric("AWS/Lambda", "ConcurrentExecutions", {}, "Count", "Maximum"),
    ])

    dead_letters_url, dead_letters = _queue(sqs, "dead-letters")
    lam.put_function_event_invoke_config(FunctionName="worker", MaximumRetryAttempts=0)
    lam.update_function_configuration(FunctionName="worker", DeadLetterConfig={"TargetArn": dead_letters})
    _updated(lam, "worker")
    sqs.delete_queue(QueueUrl=dead_letters_url)
    lam.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"fail": true}')
    assert_published(cw, clocked, [
        Metric("AWS/Lambda", "DeadLetterErrors", function, "Count", value=1),
        Metric("AWS/Lambda", "AsyncEventsDropped", function, "Count", value=2),
    ])
    # Only once the event was dropped: a throttled asynchronous event is retried, and would count again.
    lam.put_function_concurrency(FunctionName="worker", ReservedConcurrentExecutions=0)
    once = clocked.client("lambda", config=CLIENT_CONFIG.merge(Config(retries={"total_max_attempts": 1})))
    with pytest.raises(once.exceptions.TooManyRequestsException):  # one attempt: botocore retries a 429
        once.invoke(FunctionName="worker", Payload=b"{}")
    assert_published(cw, clocked, [
        Metric("AWS/Lambda", "Throttles", function, "Count", value=1),
        Metric("AWS/Lambda", "Throttles", {}, "Count", value=1),
    ])


def _succeed_activity(sfn: Any, activity: str) -> threading.Thread:
    """A worker that takes the activity's next task and completes it."""
    def work() -> None:
        token = sfn.get_activity_task(activityArn=activity, workerName="approver")["taskToken"]
        sfn.send_task_success(taskToken=token, output="{}")
    worker = threading.Thread(target=work)
    worker.start()
    return worker


def _finished(sfn: Any, arn: str) -> dict[str, Any]:
    return dict(wait_for(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
                         message=f"execution {arn}"))


def test_step_functions_publish_execution_and_task_metrics(clocked: ServerProcess) -> None:
    lam, sqs, cw = clocked.client("lambda"), clocked.client("sqs"), clocked.client("cloudwatch")
    # StartSyncExecution's host prefix (sync-) would not resolve for 127.0.0.1.
    sfn = clocked.client("stepfunctions", config=CLIENT_CONFIG.merge(Config(inject_host_prefix=False)))
    function = _function(lam, "step")
    url, _ = _queue(sqs, "steps")
    activity = sfn.create_activity(name="approve")["activityArn"]
    send = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": url, "MessageBody": "step"}}
    flow = sfn.create_state_machine(name="flow", roleArn=ROLE, definition=json.dumps({"StartAt": "Send", "States": {
        "Send": {**send, "Next": "Direct"},
        "Direct": {"Type": "Task", "Resource": function, "Next": "Approve"},
        "Approve": {"Type": "Task", "Resource": activity, "Next": "Broken"},
        "Broken": {**send, "Parameters": {"QueueUrl": url + "-missing", "MessageBody": "x"},
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
        "Done": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    worker = _succeed_activity(sfn, activity)
    execution = sfn.start_execution(stateMachineArn=flow)["executionArn"]
    worker.join(timeout=60)
    assert _finished(sfn, execution)["status"] == "SUCCEEDED"

    quick = sfn.create_state_machine(name="quick", roleArn=ROLE, type="EXPRESS", definition=json.dumps({
        "StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    assert sfn.start_sync_execution(stateMachineArn=quick)["status"] == "SUCCEEDED"

    beats_activity = sfn.create_activity(name="beats")["activityArn"]
    beats = sfn.create_state_machine(name="beats", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": beats_activity, "HeartbeatSeconds": 30,
                                               "End": True}}}))["stateMachineArn"]
    late = sfn.start_execution(stateMachineArn=beats)["executionArn"]
    sfn.get_activity_task(activityArn=beats_activity)
    clocked.advance_clock(31)
    assert _finished(sfn, late)["error"] == "States.HeartbeatTimeout"
    worker = _succeed_activity(sfn, beats_activity)
    sfn.redrive_execution(executionArn=late)
    worker.join(timeout=60)
    assert _finished(sfn, late)["status"] == "SUCCEEDED"

    sqs_send = {"ServiceIntegrationResourceArn": f"arn:aws:states:us-east-1:{ACCOUNT}:sqs:sendMessage"}
    direct, approve = {"LambdaFunctionArn": function}, {"ActivityArn": activity}
    assert_published(cw, clocked, [
        Metric("AWS/States", "ExecutionsStarted", {"StateMachineArn": flow}, "Count", value=1),
        Metric("AWS/States", "ExecutionsStarted", {"StateMachineArn": flow}, "Count", "SampleCount", 2),
        Metric("AWS/States", "ExecutionsSucceeded", {"StateMachineArn": flow}, "Count", value=1),
        Metric("AWS/States", "ExecutionTime", {"StateMachineArn": flow}, "Milliseconds", "SampleCount", 1),
        Metric("AWS/States", "ExecutionsStarted", {"StateMachineArn": quick}, "Count", value=1),
        Metric("AWS/States", "ExecutionsSucceeded", {"StateMachineArn": quick}, "Count", value=1),
        Metric("AWS/States", "ExecutionTime", {"StateMachineArn": quick}, "Milliseconds", "SampleCount", 1),
        Metric("AWS/States", "ExecutionsSucceeded", {}, "Count", value=3),
        Metric("AWS/States", "ExecutionsFailed", {"StateMachineArn": beats}, "Count", value=1),
        Metric("AWS/States", "ExecutionsRedriven", {"StateMachineArn": beats}, "Count", value=1),
        Metric("AWS/States", "RedrivenExecutionsSucceeded", {"StateMachineArn": beats}, "Count", value=1),
        Metric("AWS/States", "ServiceIntegrationsScheduled", sqs_send, "Count", value=2),
        Metric("AWS/States", "ServiceIntegrationsStarted", sqs_send, "Count", value=2),
        Metric("AWS/States", "ServiceIntegrationsSucceeded", sqs_send, "Count", value=1),
        Metric("AWS/States", "ServiceIntegrationsFailed", sqs_send, "Count", value=1),
        Metric("AWS/States", "ServiceIntegrationTime", sqs_send, "Milliseconds", "SampleCount", 2),
        Metric("AWS/States", "ServiceIntegrationRunTime", sqs_send, "Milliseconds", "SampleCount", 2),
        Metric("AWS/States", "ServiceIntegrationScheduleTime", sqs_send, "Milliseconds", "SampleCount", 2),
        Metric("AWS/States", "LambdaFunctionsScheduled", direct, "Count", value=1),
        Metric("AWS/States", "LambdaFunctionsStarted", direct, "Count", value=1),
        Metric("AWS/States", "LambdaFunctionsSucceeded", direct, "Count", value=1),
        Metric("AWS/States", "LambdaFunctionTime", direct, "Milliseconds", "SampleCount", 1),
        Metric("AWS/States", "LambdaFunctionRunTime", direct, "Milliseconds", "SampleCount", 1),
        Metric("AWS/States", "LambdaFunctionScheduleTime", direct, "Milliseconds", "SampleCount", 1),
        Metric("AWS/States", "ActivitiesScheduled", approve, "Count", value=1),
        Metric("AWS/States", "ActivitiesStarted", approve, "Count", value=1),
        Metric("AWS/States", "ActivitiesSucceeded", approve, "Count", value=1),
        Metric("AWS/States", "ActivityTime", approve, "Milliseconds", "SampleCount", 1),
        Metric("AWS/States", "ActivityRunTime", approve, "Milliseconds", "SampleCount", 1),
        Metric("AWS/States", "ActivityScheduleTime", approve, "Milliseconds", "SampleCount", 1),
        Metric("AWS/States", "ActivitiesHeartbeatTimedOut", {"ActivityArn": beats_activity}, "Count", value=1),
        Metric("AWS/States", "ActivitiesSucceeded", {"ActivityArn": beats_activity}, "Count", value=1),
    ])

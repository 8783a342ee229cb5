"""SNS publish and EventBridge putEvents as Task integrations, and the execution status-change
events Step Functions sends to the default EventBridge bus, all observed through an SQS queue."""

from __future__ import annotations

import json
from typing import Any

from tests.stepfunctions.conftest import drain_json, finished, run_to_end


def _queue(server: Any, name: str) -> tuple[Any, str, str]:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def test_a_task_publishes_to_an_sns_topic_that_fans_out_to_sqs(server: Any, sfn: Any, make_machine: Any,
                                                                unique: str) -> None:
    sqs, url, queue_arn = _queue(server, f"sns-{unique}")
    sns = server.client("sns")
    topic = sns.create_topic(Name=f"orders-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    machine = make_machine({"StartAt": "Publish", "States": {"Publish": {
        "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {"TopicArn": topic, "Message": {"order.$": "$.order"}, "Subject": "order"}, "End": True}}})
    done = run_to_end(sfn, machine, {"order": 17})
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert set(output) == {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    headers = output["SdkHttpMetadata"]["HttpHeaders"]
    # SNS answers in XML; the SDK's metadata gives the length of AWS's answer for this MessageId
    assert headers["Content-Type"] == "text/xml" and headers["Content-Length"] == "294"
    assert drain_json(sqs, url, 1) == [{"order": 17}]


def test_a_task_puts_events_that_a_rule_routes_to_sqs(server: Any, sfn: Any, make_machine: Any,
                                                       unique: str) -> None:
    sqs, url, queue_arn = _queue(server, f"eb-{unique}")
    events = server.client("events")
    source = f"shop.{unique}"
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "q", "Arn": queue_arn}])
    machine = make_machine({"StartAt": "Emit", "States": {"Emit": {
        "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {"Entries": [{"Source": source, "DetailType": "OrderPlaced",
                                    "Detail": {"order.$": "$.order"}}]}, "End": True}}})
    done = run_to_end(sfn, machine, {"order": 5})
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert output["FailedEntryCount"] == 0 and len(output["Entries"]) == 1
    [event] = drain_json(sqs, url, 1)
    assert (event["source"], event["detail-type"], event["detail"]) == (source, "OrderPlaced", {"order": 5})


def test_standard_executions_send_status_changes_to_the_default_bus(server: Any, sfn: Any, make_machine: Any,
                                                                    unique: str) -> None:
    sqs, url, queue_arn = _queue(server, f"status-{unique}")
    events = server.client("events")
    ok = make_machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}})
    bad = make_machine({"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Oops", "Cause": "why"}}})
    events.put_rule(Name=f"status-{unique}", EventPattern=json.dumps({
        "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"stateMachineArn": [ok, bad]}}))
    events.put_targets(Rule=f"status-{unique}", Targets=[{"Id": "q", "Arn": queue_arn}])

    good = sfn.start_execution(stateMachineArn=ok, name="good", input='{"a": 1}')["executionArn"]
    finished(sfn, good)
    failed = sfn.start_execution(stateMachineArn=bad, name="bad")["executionArn"]
    finished(sfn, failed)
    received = drain_json(sqs, url, 4)
    seen = {(e["detail"]["executionArn"], e["detail"]["status"]): e for e in received}
    assert set(seen) == {(good, "RUNNING"), (good, "SUCCEEDED"), (failed, "RUNNING"), (failed, "FAILED")}

    end = seen[(good, "SUCCEEDED")]
    assert (end["source"], end["detail-type"], end["resources"]) == (
        "aws.states", "Step Functions Execution Status Change", [good])
    assert (end["account"], end["region"]) == ("000000000000", "us-east-1")
    detail = end["detail"]
    assert (detail["stateMachineArn"], detail["name"], detail["input"], json.loads(detail["output"])) == (
        ok, "good", '{"a": 1}', {"ok": 1})
    assert detail["inputDetails"] == {"included": True} and detail["outputDetails"] == {"included": True}
    assert isinstance(detail["startDate"], int) and detail["stopDate"] >= detail["startDate"]
    start = seen[(good, "RUNNING")]["detail"]
    assert (start["stopDate"], start["output"], start["outputDetails"]) == (None, None, None)
    failure = seen[(failed, "FAILED")]["detail"]
    assert (failure["error"], failure["cause"], failure["output"]) == ("Oops", "why", None)
    # the version, alias and redrive fields, null when there are none (as AWS recorded)
    assert {k: detail[k] for k in ("stateMachineVersionArn", "stateMachineAliasArn", "redriveCount", "redriveDate",
                                   "redriveStatus", "redriveStatusReason")} == {
        "stateMachineVersionArn": None, "stateMachineAliasArn": None, "redriveCount": 0, "redriveDate": None,
        "redriveStatus": "NOT_REDRIVABLE", "redriveStatusReason": "Execution is SUCCEEDED and cannot be redriven"}
    assert start["redriveStatusReason"] == "Execution is RUNNING and cannot be redriven"
    assert (failure["redriveStatus"], failure["redriveStatusReason"]) == ("REDRIVABLE", None)


def test_express_executions_send_no_status_change_events(server: Any, sfn: Any, make_machine: Any,
                                                         unique: str) -> None:
    sqs, url, queue_arn = _queue(server, f"express-{unique}")
    events = server.client("events")
    machine = make_machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}, "EXPRESS")
    events.put_rule(Name=f"express-{unique}", EventPattern=json.dumps({
        "source": ["aws.states"], "detail": {"stateMachineArn": [machine]}}))
    events.put_targets(Rule=f"express-{unique}", Targets=[{"Id": "q", "Arn": queue_arn}])
    assert sfn.start_sync_execution(stateMachineArn=machine)["status"] == "SUCCEEDED"
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None

"""`events:putEvents` as AWS answers it: the state machine's and the execution's ARNs join every
entry's Resources, and failed entries fail the task with EventBridge.FailedEntry."""

from __future__ import annotations

import json
from typing import Any

from tests.stepfunctions.conftest import drain_json, run_to_end


def _routed_queue(server: Any, unique: str, detail_type: str) -> tuple[Any, str]:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=f"put-events-{unique}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = server.client("events")
    events.put_rule(Name=f"r-{unique}", EventPattern=json.dumps({"detail-type": [detail_type]}))
    events.put_targets(Rule=f"r-{unique}", Targets=[{"Id": "q", "Arn": arn}])
    return sqs, url


PUT_EVENTS = {"StartAt": "Put", "States": {"Put": {
    "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
    "Parameters": {"Entries.$": "$.Entries"}, "End": True}}}


def test_put_events_adds_the_state_machine_and_execution_to_each_entrys_resources(
        server: Any, sfn: Any, make_machine: Any, unique: str) -> None:
    detail_type = f"dt-{unique}"
    sqs, url = _routed_queue(server, unique, detail_type)
    machine = make_machine(PUT_EVENTS)
    entries = [{"Source": "some.source", "DetailType": detail_type, "Detail": {"n": 0}},
               {"Source": "some.source", "DetailType": detail_type, "Detail": {"n": 1}, "Resources": ["mine"]}]
    done = run_to_end(sfn, machine, {"Entries": entries})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["FailedEntryCount"] == 0 and len(output["Entries"]) == 2
    received = sorted(drain_json(sqs, url, 2, 15), key=lambda e: e["detail"]["n"])
    ours = [machine, done["executionArn"]]
    assert [e["resources"] for e in received] == [ours, ["mine", *ours]]


def test_a_failed_entry_fails_the_task_with_the_answer_as_its_cause(
        server: Any, sfn: Any, make_machine: Any, unique: str) -> None:
    detail_type = f"dt-{unique}"
    sqs, url = _routed_queue(server, unique, detail_type)
    machine = make_machine(PUT_EVENTS)
    entries = [{"Source": "some.source", "DetailType": detail_type, "Detail": {"n": 0}},
               {"DetailType": detail_type, "Detail": {"n": 1}},  # no Source
               {"Source": "some.source", "DetailType": detail_type, "Detail": '"a JSON string"'}]
    done = run_to_end(sfn, machine, {"Entries": entries})
    assert (done["status"], done["error"]) == ("FAILED", "EventBridge.FailedEntry")
    cause = json.loads(done["cause"])
    assert cause["FailedEntryCount"] == 2
    assert set(cause["Entries"][0]) == {"EventId"}
    assert cause["Entries"][1:] == [
        {"ErrorCode": "InvalidArgument",
         "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."},
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}]
    history = sfn.get_execution_history(executionArn=done["executionArn"], reverseOrder=True)["events"]
    failed = history[1]["taskFailedEventDetails"]
    assert (failed["error"], failed["resourceType"], failed["resource"]) == (
        "EventBridge.FailedEntry", "events", "putEvents")
    assert len(drain_json(sqs, url, 1, 15)) == 1  # the valid entry was still put

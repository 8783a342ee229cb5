"""One X-Ray trace through SQS -> Lambda -> Step Functions -> Lambda -> EventBridge -> SQS: every hop
keeps the Root the first request carried, and `eventyard trace` / `GET /_eventyard/trace/<id>` print
the path from any id along it (the trace id, the first message id, the execution ARN)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from typing import Any

from tests.conftest import ROOT, ServerProcess
from tests.lambda_.conftest import ROLE, make_zip

SFN_ROLE = "arn:aws:iam::000000000000:role/sfn-role"
ROOT_ID = "1-5f84c7a1-6c8e1f3a8b2d4e5f6a7b8c9d"
INCOMING = f"Root={ROOT_ID};Parent=53995c3f42cd8ad8;Sampled=1"

# Starts the state machine for each message it is given (its SDK sends _X_AMZN_TRACE_ID on).
STARTER = """
import json, os, boto3
sfn = boto3.client("stepfunctions")
def handler(event, context):
    for record in event["Records"]:
        sfn.start_execution(stateMachineArn=os.environ["MACHINE"], input=record["body"])
"""

# The state machine's task: announces the order on EventBridge.
ANNOUNCER = """
import json, boto3
events = boto3.client("events")
def handler(event, context):
    events.put_events(Entries=[{"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": json.dumps(event)}])
    return {"announced": event["order"]}
"""


def _function(server: ServerProcess, name: str, code: str, env: dict[str, str] | None = None) -> str:
    return str(server.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=20,
        Code={"ZipFile": make_zip({"app.py": code})}, Environment={"Variables": env or {}})["FunctionArn"])


def _traced_sqs(server: ServerProcess) -> Any:
    """An SQS client whose requests carry the X-Ray header, as the X-Ray SDK adds it."""
    sqs = server.client("sqs")

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = INCOMING
    sqs.meta.events.register("before-sign.sqs.SendMessage", add_header)
    return sqs


def _received(sqs: Any, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]).get(
            "Messages")
        if messages:
            return dict(messages[0])
    raise AssertionError("no message reached the last queue")


def _trace(server: ServerProcess, ident: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{server.url}/_eventyard/trace/{ident}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_one_root_through_sqs_lambda_step_functions_lambda_eventbridge_sqs(fresh_server: ServerProcess) -> None:
    server = fresh_server
    sqs, plain_sqs = _traced_sqs(server), server.client("sqs")
    inbox = plain_sqs.create_queue(QueueName="orders-in")["QueueUrl"]
    outbox = plain_sqs.create_queue(QueueName="orders-announced")["QueueUrl"]
    outbox_arn = plain_sqs.get_queue_attributes(QueueUrl=outbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    announcer = _function(server, "announcer", ANNOUNCER)
    machine = server.client("stepfunctions").create_state_machine(
        name="place-order", roleArn=SFN_ROLE, definition=json.dumps({"StartAt": "Announce", "States": {"Announce": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
            "Parameters": {"FunctionName": announcer, "Payload.$": "$"}, "End": True}}}))["stateMachineArn"]
    starter = _function(server, "starter", STARTER, {"MACHINE": machine})
    events = server.client("events")
    events.put_rule(Name="announced", EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(Rule="announced", Targets=[{"Id": "out", "Arn": outbox_arn}])
    server.client("lambda").create_event_source_mapping(
        FunctionName=starter, EventSourceArn=plain_sqs.get_queue_attributes(
            QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"], BatchSize=1)

    message_id = sqs.send_message(QueueUrl=inbox, MessageBody=json.dumps({"order": "o-1"}))["MessageId"]
    delivered = _received(plain_sqs, outbox)
    assert json.loads(delivered["Body"])["detail"] == {"order": "o-1"}
    assert delivered["Attributes"]["AWSTraceHeader"].startswith(f"Root={ROOT_ID};")  # the Root survived every hop

    # A function's hop is written with its log lines, just after it returns: wait for the last one.
    deadline = time.monotonic() + 30
    while (path := _trace(server, ROOT_ID)[1]).get("traceId") is None or len(path["hops"]) < 6:
        assert time.monotonic() < deadline, path
        time.sleep(0.05)
    assert path["traceId"] == ROOT_ID
    steps = [(h["service"], h["operation"]) for h in path["hops"]]
    assert steps == [("sqs", "SendMessage"), ("lambda", "Invoke"), ("states", "StartExecution"), ("lambda", "Invoke"),
                     ("events", "PutEvents"), ("sqs", "SendMessage")]
    first, starter_hop, execution, announcer_hop, event, last = path["hops"]
    assert first["id"] == message_id and first["resource"].endswith(":orders-in")
    assert first["parent"] == "53995c3f42cd8ad8"  # the caller's segment, from the header it sent
    assert starter_hop["resource"] == starter and starter_hop["outcome"] == "Success"
    assert execution["resource"] == machine and execution["outcome"] == "SUCCEEDED"
    assert execution["parent"] == starter_hop["segment"]  # the function's SDK call started it
    assert announcer_hop["parent"] == execution["segment"] and announcer_hop["resource"] == announcer
    assert event["parent"] == announcer_hop["segment"] and event["outcome"] == "1 target(s)"
    # EventBridge makes no segment of its own: its targets get the header the event came with.
    assert last["parent"] == event["parent"] == announcer_hop["segment"] and last["resource"] == outbox_arn
    assert last["id"] == delivered["MessageId"]
    assert all(h["durationMs"] is not None for h in (starter_hop, execution, announcer_hop))
    assert path["services"] == ["events", "lambda", "sqs", "states"]

    assert _trace(server, message_id)[1]["traceId"] == ROOT_ID  # any id along the path finds it
    assert _trace(server, execution["id"])[1]["traceId"] == ROOT_ID
    status, missing = _trace(server, "no-such-id")
    assert status == 404 and "no traced hop" in missing["error"]

    printed = subprocess.run([sys.executable, "-m", "eventyard", "trace", message_id, "--endpoint-url", server.url],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0] == f"trace {ROOT_ID}: 6 hop(s) through events, lambda, sqs, states"
    assert [line.split()[1:3] for line in lines[2:]] == [[s, o] for s, o in steps]
    assert "SUCCEEDED" in lines[4] and message_id in lines[2]

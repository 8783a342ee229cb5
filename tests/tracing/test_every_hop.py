"""The trace header through the other hops: SNS fan-out, Kinesis -> Lambda, Step Functions' SQS
integration, a pipe, and Scheduler (which starts a trace of its own)."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import ServerProcess
from tests.lambda_.conftest import ROLE, make_zip
from tests.pipes.conftest import ROLE as PIPE_ROLE
from tests.pipes.conftest import settled

SFN_ROLE = "arn:aws:iam::000000000000:role/sfn-role"
SCHEDULER_ROLE = "arn:aws:iam::000000000000:role/r"

# Sends what it saw (and the trace it ran in) to the queue in $SEEN.
REPORTER = """
import json, os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["SEEN"], MessageBody=json.dumps({"trace": os.environ["_X_AMZN_TRACE_ID"]}))
"""


def header(root: str) -> str:
    return f"Root={root};Parent=0123456789abcdef;Sampled=1"


def root_of(text: str) -> str:
    return text.split(";")[0].removeprefix("Root=")


def traced(client: Any, operation: str, value: str) -> Any:
    def add(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = value
    client.meta.events.register(f"before-sign.*.{operation}", add)
    return client


def queue(server: ServerProcess, name: str) -> tuple[str, str]:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def one_message(server: ServerProcess, url: str, timeout: float = 60) -> dict[str, Any]:
    sqs = server.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]).get(
            "Messages")
        if found:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=found[0]["ReceiptHandle"])
            return dict(found[0])
    raise AssertionError(f"nothing arrived at {url}")


def path(server: ServerProcess, ident: str, hops: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/_eventyard/trace/{ident}", timeout=10) as response:
                found = json.load(response)
            if len(found["hops"]) >= hops:
                return dict(found)
        except urllib.error.HTTPError:
            pass
        assert time.monotonic() < deadline, f"the trace of {ident} did not reach {hops} hops"
        time.sleep(0.05)


def test_sns_fan_out_passes_the_header_through(server: ServerProcess, unique: str) -> None:
    root = f"1-00000001-{unique}{unique}"[:35]
    url, arn = queue(server, f"fan-{unique}")
    sns = traced(server.client("sns"), "Publish", header(root))
    topic = sns.create_topic(Name=f"fan-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="hello")
    message = one_message(server, url)
    assert message["Attributes"]["AWSTraceHeader"] == header(root)  # PassThrough, SNS's default: as it came
    published, sent = path(server, root, 2)["hops"]
    assert (published["service"], published["resource"]) == ("sns", topic)
    assert (sent["service"], sent["parent"], sent["id"]) == ("sqs", published["parent"], message["MessageId"])


def test_kinesis_records_carry_their_writers_trace_to_a_function(server: ServerProcess, unique: str) -> None:
    root = f"1-00000002-{unique}{unique}"[:35]
    seen, _ = queue(server, f"kin-seen-{unique}")
    kinesis = traced(server.client("kinesis"), "PutRecord", header(root))
    kinesis.create_stream(StreamName=f"kin-{unique}", ShardCount=1)
    deadline = time.monotonic() + 30
    while (summary := kinesis.describe_stream_summary(StreamName=f"kin-{unique}")["StreamDescriptionSummary"])[
            "StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    lam = server.client("lambda")
    function = lam.create_function(FunctionName=f"kin-{unique}", Runtime="python3.12", Role=ROLE,
                                   Handler="app.handler", Timeout=10, Code={"ZipFile": make_zip({"app.py": REPORTER})},
                                   Environment={"Variables": {"SEEN": seen}})["FunctionArn"]
    lam.create_event_source_mapping(FunctionName=function, EventSourceArn=summary["StreamARN"],
                                    StartingPosition="TRIM_HORIZON", BatchSize=10)
    put = kinesis.put_record(StreamName=f"kin-{unique}", Data=b"order-1", PartitionKey="p")
    assert root_of(json.loads(one_message(server, seen)["Body"])["trace"]) == root
    record, invoked, reported = path(server, root, 3)["hops"]
    assert (record["service"], record["operation"], record["id"]) == (
        "kinesis", "PutRecord", f"{summary['StreamARN']}/{put['SequenceNumber']}")
    assert (invoked["service"], invoked["parent"]) == ("lambda", record["segment"])
    assert (reported["service"], reported["parent"]) == ("sqs", invoked["segment"])


def test_step_functions_integrations_send_the_execution_trace(server: ServerProcess, unique: str) -> None:
    root = f"1-00000003-{unique}{unique}"[:35]
    url, _ = queue(server, f"sfn-out-{unique}")
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name=f"send-{unique}", roleArn=SFN_ROLE, definition=json.dumps({
        "StartAt": "Send", "States": {"Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                                               "Parameters": {"QueueUrl": url, "MessageBody.$": "$"}, "End": True}}}))
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}",
                                    traceHeader=header(root))["executionArn"]
    message = one_message(server, url)
    assert root_of(message["Attributes"]["AWSTraceHeader"]) == root
    started, sent = path(server, execution, 2)["hops"]
    assert (started["service"], started["id"], sent["parent"]) == ("states", execution, started["segment"])


def test_a_pipe_passes_its_source_messages_trace_to_its_target(server: ServerProcess, unique: str) -> None:
    root = f"1-00000004-{unique}{unique}"[:35]
    source, source_arn = queue(server, f"pipe-in-{unique}")
    target, target_arn = queue(server, f"pipe-out-{unique}")
    pipes = server.client("pipes")
    pipes.create_pipe(Name=f"tp-{unique}", RoleArn=PIPE_ROLE, Source=source_arn, Target=target_arn)
    settled(pipes, f"tp-{unique}", "RUNNING")
    traced(server.client("sqs"), "SendMessage", header(root)).send_message(QueueUrl=source, MessageBody="x")
    assert root_of(one_message(server, target)["Attributes"]["AWSTraceHeader"]) == root
    sent, piped, delivered = path(server, root, 3)["hops"]
    assert [h["service"] for h in (sent, piped, delivered)] == ["sqs", "pipes", "sqs"]
    assert piped["outcome"] == "ExecutionSucceeded" and delivered["parent"] == piped["segment"]


def test_a_schedule_starts_a_trace_its_target_continues(fresh_server: ServerProcess) -> None:
    url, arn = queue(fresh_server, "scheduled")
    when = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    schedule = fresh_server.client("scheduler").create_schedule(
        Name="nightly", ScheduleExpression=f"at({when})", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": SCHEDULER_ROLE, "Input": "{}"})["ScheduleArn"]
    fresh_server.advance_clock(3600 + 5)
    message = one_message(fresh_server, url)
    root = root_of(message["Attributes"]["AWSTraceHeader"])
    fired, sent = path(fresh_server, root, 2)["hops"]
    assert (fired["service"], fired["resource"], fired["detail"]) == ("scheduler", schedule, {"target": arn})
    assert (sent["parent"], sent["id"]) == (fired["segment"], message["MessageId"])


def test_an_express_executions_hop_shows_how_it_ended(server: ServerProcess, unique: str) -> None:
    """AWS describes no EXPRESS execution (DescribeExecution refuses its ARN), so the trace cannot ask
    for its outcome the way it does for a STANDARD one: the hop is written when the execution ends,
    with the outcome in it."""
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name=f"express-{unique}", roleArn=SFN_ROLE, type="EXPRESS", definition=json.dumps({
        "StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}))
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}",
                                    traceHeader=header(f"1-00000004-{unique}{unique}"[:35]))["executionArn"]
    deadline = time.monotonic() + 30
    while (hop := path(server, execution, 1)["hops"][0])["outcome"] != "SUCCEEDED":
        assert time.monotonic() < deadline, f"the express execution's hop stayed {hop['outcome']}"
        time.sleep(0.05)
    assert (hop["service"], hop["id"]) == ("states", execution)

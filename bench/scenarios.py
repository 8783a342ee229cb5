"""The hot operation of each service as a load scenario: its set-up (boto3, once) and either the
requests wrk cycles through or a raw-client coroutine for a scripted sequence.

The service benchmarks and `profile.py` share these, so a profile is taken on exactly the load the
tables report.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from load import Request, json_call, signed_headers
from peers import Peer, create_execution_role
from rawhttp import Connection, JsonClient, Tally, run_async

BODY = "x" * 200
SQS = "AmazonSQS."
KINESIS = "Kinesis_20131202."
ROLE = "arn:aws:iam::000000000000:role/bench-role"


@dataclass
class Scenario:
    setup: Callable[[Peer], Any]
    requests: Callable[[Any], list[Request]] | None = None  # wrk
    raw: Any = None  # a rawhttp scenario coroutine, given the set-up's context as its argument


# -- SQS ----------------------------------------------------------------------------------------------
def queue(peer: Peer, name: str) -> str:
    return str(peer.client("sqs").create_queue(QueueName=name)["QueueUrl"])


def send_batch_requests(queue_url: str, variants: int = 16) -> list[Request]:
    return [json_call("sqs", SQS + "SendMessageBatch", {"QueueUrl": queue_url, "Entries": [
        {"Id": str(i), "MessageBody": f"{v:04d}{BODY[4:]}"} for i in range(10)]}) for v in range(variants)]


def send_requests(queue_url: str) -> list[Request]:
    return [json_call("sqs", SQS + "SendMessage", {"QueueUrl": queue_url, "MessageBody": BODY})]


async def receive_and_delete(connection: Connection, deadline: float, tally: Tally, queue_url: str) -> None:
    """Receive up to 10, delete what came in one batch; stop early once the queue stays empty."""
    sqs = JsonClient(connection, "sqs")
    empty = 0
    while time.monotonic() < deadline and empty < 3:
        started = time.perf_counter()
        got = await sqs.call(SQS + "ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 10})
        messages = got.get("Messages", [])
        if not messages:
            empty += 1
            continue
        await sqs.call(SQS + "DeleteMessageBatch", {"QueueUrl": queue_url, "Entries": [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]})
        tally.record(len(messages), started)


def fill(url: str, queue_url: str, messages: int, connections: int = 8, bound: float = 60.0) -> None:
    """Put `messages` into a queue with raw batches of 10 (before a measured phase; at most `bound` s)."""
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + bound

    async def one(batches: int) -> None:
        sqs = JsonClient(await Connection(host, int(port)).open(), "sqs")
        entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]
        for _ in range(batches):
            if time.monotonic() > deadline:
                break
            await sqs.call(SQS + "SendMessageBatch", {"QueueUrl": queue_url, "Entries": entries})
        sqs.connection.close()

    async def work() -> None:
        await asyncio.gather(*(one(max(1, messages // 10 // connections)) for _ in range(connections)))

    run_async(work)


def filled_queue(peer: Peer, messages: int = 150_000) -> str:
    url = queue(peer, "bench-recv")
    fill(peer.url, url, messages)
    return url


# -- SNS ----------------------------------------------------------------------------------------------
def topic_with_queues(peer: Peer, subscriptions: int = 3, tag: str = "t") -> tuple[str, list[str]]:
    """A topic with `subscriptions` raw SQS subscriptions (no filter: every publish reaches each)."""
    sns, sqs = peer.client("sns"), peer.client("sqs")
    topic_arn = sns.create_topic(Name=f"bench-{tag}")["TopicArn"]
    urls = []
    for i in range(subscriptions):
        url = sqs.create_queue(QueueName=f"bench-{tag}-{i}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        urls.append(url)
    return topic_arn, urls


def publish_requests(topic_arn: str, variants: int = 8) -> list[Request]:
    headers = signed_headers("sns", "application/x-www-form-urlencoded; charset=utf-8")
    return [Request("POST", "/", headers, urlencode({
        "Action": "Publish", "Version": "2010-03-31", "TopicArn": topic_arn,
        "Message": json.dumps({"n": v, "sent": "{sent}", "pad": BODY[:100]})})) for v in range(variants)]


# -- EventBridge --------------------------------------------------------------------------------------
def rules_to_queue(peer: Peer, rules: int, tag: str = "e") -> str:
    """`rules` rules on the default bus, rule i matching detail.k == i, each targeting one queue."""
    sqs = peer.client("sqs")
    url = sqs.create_queue(QueueName=f"bench-{tag}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    host, port = peer.url.removeprefix("http://").split(":")

    async def work() -> None:
        async def one(first: int, step: int) -> None:
            events = JsonClient(await Connection(host, int(port)).open(), "events", "1.1")
            for i in range(first, rules, step):
                name = f"r-{tag}-{i}"
                await events.call("AWSEvents.PutRule", {"Name": name, "EventPattern": json.dumps(
                    {"source": [f"bench.{tag}"], "detail": {"k": [i]}})})
                await events.call("AWSEvents.PutTargets", {"Rule": name, "Targets": [{"Id": "q", "Arn": arn}]})
            events.connection.close()

        await asyncio.gather(*(one(k, 8) for k in range(8)))

    run_async(work)
    return str(url)


def put_events_requests(rules: int, tag: str = "e", variants: int = 64) -> list[Request]:
    return [json_call("events", "AWSEvents.PutEvents", {"Entries": [
        {"Source": f"bench.{tag}", "DetailType": "bench",
         "Detail": json.dumps({"k": (v * 10 + i) * 7919 % rules, "pad": "x" * 64})} for i in range(10)]}, "1.1")
        for v in range(variants)]


# -- Kinesis ------------------------------------------------------------------------------------------
def stream(peer: Peer, shards: int = 4, name: str = "bench") -> str:
    kinesis = peer.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    deadline = time.monotonic() + 60
    while kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError("stream never became ACTIVE")
        time.sleep(0.05)
    return name


def put_records_requests(name: str, variants: int = 8, size: int = 100) -> list[Request]:
    data = base64.b64encode(b"x" * size).decode()
    return [json_call("kinesis", KINESIS + "PutRecords", {"StreamName": name, "Records": [
        {"Data": data, "PartitionKey": f"k{v}-{i}"} for i in range(100)]}, "1.1") for v in range(variants)]


def filled_stream(peer: Peer, records: int = 100_000, shards: int = 4) -> tuple[str, list[str]]:
    name = stream(peer, shards, "bench-read")
    kinesis = peer.client("kinesis")
    data = b"x" * 100
    for first in range(0, records, 500):
        kinesis.put_records(StreamName=name, Records=[{"Data": data, "PartitionKey": f"k{first + i}"}
                                                       for i in range(500)])
    shard_ids = [s["ShardId"] for s in kinesis.list_shards(StreamName=name)["Shards"]]
    return name, shard_ids


async def get_records(connection: Connection, deadline: float, tally: Tally, context: Any) -> None:
    """Read a shard from its horizon with GetRecords (Limit 1,000), starting over at the tip."""
    name, shard_ids = context
    kinesis = JsonClient(connection, "kinesis", "1.1")
    shard = shard_ids[id(connection) % len(shard_ids)]
    iterator = None
    while time.monotonic() < deadline:
        if iterator is None:
            iterator = (await kinesis.call(KINESIS + "GetShardIterator", {
                "StreamName": name, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}))["ShardIterator"]
        started = time.perf_counter()
        page = await kinesis.call(KINESIS + "GetRecords", {"ShardIterator": iterator, "Limit": 1000})
        tally.record(len(page["Records"]), started)
        iterator = page.get("NextShardIterator") if page["Records"] else None


# -- Step Functions -----------------------------------------------------------------------------------
EXPRESS = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.a", "Next": "B"},
    "B": {"Type": "Choice", "Choices": [{"Variable": "$.a.ok", "BooleanEquals": True, "Next": "C"}],
          "Default": "C"},
    "C": {"Type": "Pass", "End": True}}}


def express_machine(peer: Peer) -> str:
    create_execution_role(peer.url, ROLE)
    sfn = peer.client("stepfunctions")
    return str(sfn.create_state_machine(name="bench-express", definition=json.dumps(EXPRESS), roleArn=ROLE,
                                        type="EXPRESS")["stateMachineArn"])


def start_execution_requests(arn: str, operation: str = "StartExecution") -> list[Request]:
    return [json_call("states", f"AWSStepFunctions.{operation}", {"stateMachineArn": arn, "input": '{"n": 1}'})]


# -- Lambda -------------------------------------------------------------------------------------------
HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def function(peer: Peer, name: str = "bench-fn") -> str:
    create_execution_role(peer.url, ROLE)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("index.py", HANDLER)
    lam = peer.client("lambda")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": archive.getvalue()})
    deadline = time.monotonic() + 60
    while lam.get_function(FunctionName=name)["Configuration"].get("State") not in {"Active", None}:
        if time.monotonic() > deadline:
            raise RuntimeError("function never became Active")
        time.sleep(0.1)
    lam.invoke(FunctionName=name, Payload=b"{}")  # a warm worker
    return name


def invoke_requests(name: str) -> list[Request]:
    return [Request("POST", f"/2015-03-31/functions/{name}/invocations", signed_headers("lambda"), '{"n": 1}')]


SCENARIOS: dict[str, Scenario] = {
    "sqs-send-batch": Scenario(lambda p: queue(p, "bench-batch"), send_batch_requests),
    "sqs-send": Scenario(lambda p: queue(p, "bench-one"), send_requests),
    "sqs-receive-delete": Scenario(filled_queue, raw=receive_and_delete),
    "sns-publish": Scenario(lambda p: topic_with_queues(p)[0], publish_requests),
    "events-put": Scenario(lambda p: rules_to_queue(p, 1000) and 1000, put_events_requests),
    "kinesis-put": Scenario(stream, put_records_requests),
    "kinesis-get": Scenario(filled_stream, raw=get_records),
    "sfn-express": Scenario(express_machine, start_execution_requests),
    "lambda-invoke": Scenario(function, invoke_requests),
}

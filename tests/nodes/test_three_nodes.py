"""Three Eventyard nodes on one PostgreSQL database, as three hosts would run them.

Consumers on every node share queues; a rule created on one node routes on the others; schedules
fire once per tick however many nodes run; and when one node is killed (-9) in the middle of the
load, nothing acknowledged is lost, no message is handed out twice inside its visibility timeout,
FIFO groups and Kinesis shards keep their order, the dead node's event source mapping and its
running execution are taken over by a survivor. Node liveness runs on a 3 s TTL here
(EVENTYARD_NODE_TTL) so take-overs happen quickly.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.lambda_.conftest import make_zip
from tests.storage_backends import new_postgres_database

LAMBDA_ROLE = "arn:aws:iam::000000000000:role/lambda-role"
SFN_ROLE = "arn:aws:iam::000000000000:role/sfn-role"
VISIBILITY = 30
# The function reports each invocation's records, in order, to a FIFO queue.
RECORDER = """
import base64, json, os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    sqs.send_message(QueueUrl=os.environ["SEEN"], MessageGroupId="g", MessageDeduplicationId=context.aws_request_id,
                     MessageBody=json.dumps(data))
    return {}
"""


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    url = new_postgres_database()  # skips (or fails in CI) without PostgreSQL
    nodes = [ServerProcess(tmp_path / f"node-{i}", env={"EVENTYARD_NODE_TTL": "3"}, storage=url) for i in range(3)]
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def eventually(check: Any, timeout: float = 30.0, message: str = "condition not met in time") -> Any:
    deadline = time.monotonic() + timeout  # bounds a hang; each condition is met as soon as it holds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(message)


def queue(node: ServerProcess, name: str, **attributes: str) -> tuple[str, str]:
    sqs = node.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(node: ServerProcess, url: str) -> list[str]:
    sqs, bodies = node.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_rule_created_on_one_node_routes_events_put_on_the_others(cluster: list[ServerProcess]) -> None:
    a, b, c = cluster
    url, arn = queue(a, "routed")
    pattern = json.dumps({"source": ["shop.orders"]})
    a.client("events").put_rule(Name="orders", EventPattern=pattern)
    a.client("events").put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": arn}])
    started = time.monotonic()
    for node in (b, c):  # within a bounded time (the change is signalled at commit), each node routes it
        def routed(node: ServerProcess = node) -> bool:
            node.client("events").put_events(Entries=[
                {"Source": "shop.orders", "DetailType": "placed", "Detail": json.dumps({"via": node.port})}])
            return any(json.loads(body)["detail"]["via"] == node.port for body in drain(a, url))
        eventually(routed, 10, f"node {node.port} does not route by the rule created on node {a.port}")
    assert time.monotonic() - started < 10
    # ... and a rule disabled on another node stops routing everywhere.
    c.client("events").disable_rule(Name="orders")
    time.sleep(1)  # the refresh is signalled; a second is far more than it needs, and we assert absence
    drain(a, url)
    for node in cluster:
        node.client("events").put_events(Entries=[{"Source": "shop.orders", "DetailType": "placed", "Detail": "{}"}])
    time.sleep(1)
    assert drain(a, url) == []


def test_a_schedule_fires_once_per_tick_however_many_nodes_run(cluster: list[ServerProcess]) -> None:
    a, b, c = cluster
    url, arn = queue(a, "ticks")
    b.client("events").put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")
    b.client("events").put_targets(Rule="every-minute", Targets=[{"Id": "q", "Arn": arn}])
    a.client("sqs").send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=30)
    c.advance_clock(61)  # the shared clock: every node is a minute later
    ticks = eventually(lambda: drain(a, url) or None, 30)
    time.sleep(3)  # other nodes would have fired their copy by now
    ticks += drain(a, url)
    assert sorted(t if t == "delayed" else json.loads(t)["detail-type"] for t in ticks) == \
        ["Scheduled Event", "delayed"]


@dataclass
class Load:
    """What producers had acknowledged and what consumers received, in the order they received it."""

    victim_port: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: set[str] = field(default_factory=set)
    fifo_sent: dict[str, list[int]] = field(default_factory=dict)
    # (port, body, deleted: True / False / None = unknown, received after the clock advance)
    receipts: list[tuple[int, str, bool | None, bool]] = field(default_factory=list)
    fifo_receipts: list[tuple[int, str, bool | None]] = field(default_factory=list)
    advanced: bool = False

    def record(self, port: int, body: str, fifo: bool) -> int:
        with self.lock:
            if fifo:
                self.fifo_receipts.append((port, body, False))
                return len(self.fifo_receipts) - 1
            self.receipts.append((port, body, False, self.advanced))
            return len(self.receipts) - 1

    def deleted(self, index: int, fifo: bool, outcome: bool | None) -> None:
        """`outcome`: True when the delete was acknowledged, None when its node died answering it."""
        with self.lock:
            if fifo:
                port, body, _ = self.fifo_receipts[index]
                self.fifo_receipts[index] = (port, body, outcome)
            else:
                port, body, _, after = self.receipts[index]
                self.receipts[index] = (port, body, outcome, after)


def consume(node: ServerProcess, url: str, load: Load, fifo: bool, stop: threading.Event) -> None:
    sqs = node.client("sqs")
    while not stop.is_set():
        try:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        except Exception:  # this consumer's node is gone
            return
        for message in messages:
            index = load.record(node.port, message["Body"], fifo)
            try:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            except Exception:  # the node died: the delete may or may not have been committed
                load.deleted(index, fifo, None)
                return
            load.deleted(index, fifo, True)


def produce(nodes: list[ServerProcess], url: str, load: Load, worker: int, stop: threading.Event) -> None:
    clients = itertools.cycle([(node, node.client("sqs")) for node in nodes])
    for i in itertools.count():
        if stop.is_set():
            return
        node, sqs = next(clients)
        body = f"{worker}-{i}"
        try:
            sqs.send_message(QueueUrl=url, MessageBody=body)
        except Exception:  # not acknowledged: the node died under us
            continue
        with load.lock:
            load.sent.add(body)


def produce_fifo(nodes: list[ServerProcess], url: str, load: Load, group: str, stop: threading.Event) -> None:
    """Each message until some node acknowledges it (content-based dedup makes a retry harmless)."""
    clients = itertools.cycle([node.client("sqs") for node in nodes])
    load.fifo_sent[group] = []
    for i in itertools.count():
        if stop.is_set():
            return
        while not stop.is_set():
            try:
                next(clients).send_message(QueueUrl=url, MessageBody=f"{group}:{i}", MessageGroupId=group)
                break
            except Exception:
                continue
        else:
            return
        load.fifo_sent[group].append(i)


def owner_of(node: ServerProcess, lease: str, cluster: list[ServerProcess]) -> ServerProcess | None:
    rows = node.query(f"SELECT n.pid FROM leases l JOIN nodes n ON n.node_id = l.owner WHERE l.name = '{lease}'")
    pids = {row[0] for row in rows}
    return next((n for n in cluster if n.process is not None and n.process.pid in pids), None)


def test_a_node_killed_mid_load_loses_nothing_and_survivors_take_its_work_over(cluster: list[ServerProcess]) -> None:
    first = cluster[0]
    std_url, _ = queue(first, "work", VisibilityTimeout=str(VISIBILITY))
    fifo_url, _ = queue(first, "work.fifo", FifoQueue="true", ContentBasedDeduplication="true",
                        VisibilityTimeout=str(VISIBILITY))
    seen_url, _ = queue(first, "seen.fifo", FifoQueue="true")
    tokens_url, _ = queue(first, "tokens")

    # A Kinesis stream polled by a function: its mapping is owned by one node.
    kinesis = first.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    eventually(lambda: kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE")
    stream_arn = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    lam = first.client("lambda")
    lam.create_function(FunctionName="recorder", Runtime="python3.12", Role=LAMBDA_ROLE, Handler="app.handler",
                        Timeout=20, Code={"ZipFile": make_zip({"app.py": RECORDER})},
                        Environment={"Variables": {"SEEN": seen_url}})
    mapping = lam.create_event_source_mapping(FunctionName="recorder", EventSourceArn=stream_arn,
                                              StartingPosition="TRIM_HORIZON", BatchSize=10)["UUID"]
    victim = eventually(lambda: owner_of(first, f"lambda:esm:{mapping}", cluster), 20, "nobody owns the mapping")
    survivors = [node for node in cluster if node is not victim]

    # An execution driven on the victim, waiting for a task token.
    machine = victim.client("stepfunctions").create_state_machine(name="approval", roleArn=SFN_ROLE, definition=json.dumps({
        "StartAt": "Ask", "States": {"Ask": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True,
            "Parameters": {"QueueUrl": tokens_url, "MessageBody": {"token.$": "$$.Task.Token"}}}}}))["stateMachineArn"]
    execution = victim.client("stepfunctions").start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    token_message = eventually(lambda: first.client("sqs").receive_message(QueueUrl=tokens_url).get("Messages"))[0]
    token = json.loads(token_message["Body"])["token"]
    assert owner_of(first, f"stepfunctions:execution:{execution}", cluster) is victim

    # Load: producers and consumers on every node; Kinesis records in order per key.
    load = Load(victim.port)
    stop_producers, stop_consumers = threading.Event(), threading.Event()
    threads = [threading.Thread(target=produce, args=(cluster, std_url, load, w, stop_producers)) for w in range(2)]
    threads += [threading.Thread(target=produce_fifo, args=(cluster, fifo_url, load, g, stop_producers))
                for g in ("g1", "g2")]
    consumers = [threading.Thread(target=consume, args=(node, url, load, url == fifo_url, stop_consumers))
                 for node in cluster for url in (std_url, fifo_url)]
    for thread in threads + consumers:
        thread.start()
    keys = [f"k{i}" for i in range(4)]
    put_data: list[str] = []

    def put_records(node: ServerProcess, start: int, count: int) -> None:
        for i in range(start, start + count):
            records = [{"Data": f"{key}:{i}".encode(), "PartitionKey": key} for key in keys]
            assert node.client("kinesis").put_records(StreamName="clicks", Records=records)["FailedRecordCount"] == 0
            put_data.extend(f"{key}:{i}" for key in keys)

    put_records(survivors[0], 0, 5)
    eventually(lambda: len(load.sent) >= 150 and sum(map(len, load.fifo_sent.values())) >= 20, 60,
               "the load did not get going")
    victim.kill()
    put_records(survivors[1], 5, 5)  # processed only once a survivor has taken the mapping over
    eventually(lambda: len(load.sent) >= 300, 60, "the survivors did not keep taking sends")
    stop_producers.set()
    for thread in threads:
        thread.join()

    # Consumers stop (nothing of theirs stays in flight); the clock passes the visibility timeout, so
    # the dead node's claims come back; consumers on the survivors take everything that is left.
    stop_consumers.set()
    for thread in consumers:
        thread.join()
    load.advanced = True
    survivors[0].advance_clock(VISIBILITY + 1)
    stop_consumers = threading.Event()
    consumers = [threading.Thread(target=consume, args=(node, url, load, url == fifo_url, stop_consumers))
                 for node in survivors for url in (std_url, fifo_url)]
    for thread in consumers:
        thread.start()

    def missing() -> tuple[set[str], set[str]]:
        """Acknowledged messages not consumed: no acknowledged delete, and not a delete the dead node
        may have committed before dying (then the message is no longer stored)."""
        stored = {row[0] for row in survivors[0].query("SELECT body FROM sqs_messages")}
        with load.lock:
            std = {body for _, body, deleted, _ in load.receipts if deleted or (deleted is None and body not in stored)}
            fifo = {body for _, body, deleted in load.fifo_receipts
                    if deleted or (deleted is None and body not in stored)}
        fifo_sent = {f"{g}:{i}" for g, indices in load.fifo_sent.items() for i in indices}
        return load.sent - std, fifo_sent - fifo

    try:
        eventually(lambda: missing() == (set(), set()), 90)
    except AssertionError:
        lost = missing()
        rows = survivors[0].query("SELECT body, available_at, receive_count FROM sqs_messages")
        receipts = [r for r in load.receipts + load.fifo_receipts if r[1] in lost[0] | lost[1]]  # type: ignore[operator]
        raise AssertionError(f"acknowledged messages were lost (standard, FIFO): {lost}; their receipts: {receipts};"
                             f" still stored: {[r for r in rows if r[0] in lost[0] | lost[1]]}; victim {victim.port}"
                             f" threads alive {[t.is_alive() for t in consumers]}") from None
    stop_consumers.set()
    for thread in consumers:
        thread.join()

    # No duplicate inside a visibility timeout: a message came twice only when the dead node held it
    # (received, never deleted) and the clock then passed its timeout.
    by_body: dict[str, list[tuple[int, str, bool | None, bool]]] = {}
    for receipt in load.receipts:
        by_body.setdefault(receipt[1], []).append(receipt)
    for body, receipts in by_body.items():
        before = [r for r in receipts if not r[3]]
        after = [r for r in receipts if r[3]]
        assert len(before) <= 1 and len(after) <= 1, f"{body} was handed out twice in one timeout: {receipts}"
        if before and after:
            assert before[0][0] == victim.port and before[0][2] is not True, f"{body} came back though deleted: {receipts}"

    # FIFO: each group was received in order (apart from the dead node's undeleted receipts).
    for group in load.fifo_sent:
        order = [int(body.split(":")[1]) for port, body, deleted in load.fifo_receipts
                 if body.startswith(f"{group}:") and (deleted or port != victim.port)]  # the dead node's: maybe
        assert order == sorted(set(order)), f"group {group} out of order or repeated: {order}"

    # The mapping was taken over: every record reached the function, each key's records in order.
    sqs = survivors[0].client("sqs")
    invoked: list[str] = []

    def records_seen() -> bool:
        for message in sqs.receive_message(QueueUrl=seen_url, MaxNumberOfMessages=10).get("Messages") or []:
            invoked.extend(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=seen_url, ReceiptHandle=message["ReceiptHandle"])
        return set(put_data) <= set(invoked)

    eventually(records_seen, 90, "the dead node's shards were not taken over")
    for key in keys:
        firsts = [int(d.split(":")[1]) for d in dict.fromkeys(invoked) if d.startswith(f"{key}:")]
        assert firsts == sorted(firsts), f"shard order broken for {key}: {firsts}"
    new_owner = owner_of(survivors[0], f"lambda:esm:{mapping}", cluster)
    assert new_owner in survivors

    # The execution resumes on a survivor and finishes with the token's answer.
    sfn = survivors[1].client("stepfunctions")
    eventually(lambda: owner_of(survivors[0], f"stepfunctions:execution:{execution}", cluster) in survivors, 30,
               "no survivor adopted the execution")
    sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    done = eventually(lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d, 30)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"approved": True}

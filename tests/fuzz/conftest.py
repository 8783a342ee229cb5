"""The fuzz tests' server (their own: they delete and overwrite at random) with one resource of each
kind, whose names, ARNs and URLs the generated requests use."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from botocore.model import ServiceModel
from hypothesis import HealthCheck, settings

from eventyard.protocol.models import service_model
from eventyard.services.registry import SERVICE_PACKAGES
from tests.conftest import ServerProcess

# Examples per operation; CI runs the default, `EVENTYARD_FUZZ_EXAMPLES=200 pytest tests/fuzz` digs deeper.
EXAMPLES = int(os.environ.get("EVENTYARD_FUZZ_EXAMPLES", "6"))
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
SERIALIZABLE = {"json", "query", "rest-json", "smithy-rpc-v2-cbor"}


def served_models() -> list[tuple[str, str]]:
    """(botocore service, protocol) for every service the server runs and protocol its model names."""
    pairs = []
    for package in SERVICE_PACKAGES:
        name = package.rstrip("_")
        metadata = service_model(name).metadata
        for protocol in metadata.get("protocols") or [metadata["protocol"]]:
            if protocol in SERIALIZABLE:
                pairs.append((name, protocol))
    if "sqs" in SERVICE_PACKAGES:  # older SDKs' query API (the current model names only JSON)
        pairs.append(("sqs", "query"))
    return pairs


def operation_cases() -> list[tuple[str, str, str]]:
    return [(name, protocol, operation) for name, protocol in served_models()
            for operation in service_model(name).operation_names
            if not (protocol == "query" and name == "sqs" and operation in _JSON_ONLY_SQS)]


# SQS operations added after the query API froze: query SDKs cannot call them.
_JSON_ONLY_SQS = {"StartMessageMoveTask", "CancelMessageMoveTask", "ListMessageMoveTasks"}


@dataclass
class FuzzTarget:
    server: ServerProcess
    identifiers: list[str] = field(default_factory=list)
    legacy_sqs: ServiceModel | None = None

    def model(self, name: str, protocol: str) -> ServiceModel:
        if name == "sqs" and protocol == "query":
            assert self.legacy_sqs is not None
            return self.legacy_sqs
        return service_model(name)


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    server = ServerProcess(tmp_path_factory.mktemp("fuzz") / "data",
                           env={"EVENTYARD_KINESIS_TRANSITION_SECONDS": "0.05"}).start()
    try:
        yield FuzzTarget(server, _seed(server), server.legacy_sqs_client().meta.service_model)
    finally:
        server.stop()


def _seed(server: ServerProcess) -> list[str]:
    """One resource of each kind; their identifiers in every spelling a request may use."""
    ids: list[str] = []
    sqs = server.client("sqs")
    for name, attributes in (("fuzz-q", {}), ("fuzz-q.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})):
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.send_message(QueueUrl=url, MessageBody="seed", **({"MessageGroupId": "g"} if name.endswith(".fifo") else {}))
        ids += [name, url, arn]
    sns = server.client("sns")
    topic = sns.create_topic(Name="fuzz-topic")["TopicArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=ids[2])["SubscriptionArn"]
    ids += ["fuzz-topic", topic, subscription]
    events = server.client("events")
    bus = events.create_event_bus(Name="fuzz-bus")["EventBusArn"]
    rule = events.put_rule(Name="fuzz-rule", EventPattern=json.dumps({"source": ["fuzz"]}))["RuleArn"]
    ids += ["fuzz-bus", bus, "fuzz-rule", rule, "default"]
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="fuzz-stream", ShardCount=1)
    _until(lambda: kinesis.describe_stream_summary(StreamName="fuzz-stream")["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE")
    stream = kinesis.describe_stream_summary(StreamName="fuzz-stream")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.put_record(StreamName="fuzz-stream", Data=b"seed", PartitionKey="k")
    ids += ["fuzz-stream", stream, "shardId-000000000000"]
    logs = server.client("logs")
    logs.create_log_group(logGroupName="fuzz-group")
    logs.create_log_stream(logGroupName="fuzz-group", logStreamName="fuzz-stream")
    ids += ["fuzz-group"]
    sfn = server.client("stepfunctions")
    role = "arn:aws:iam::000000000000:role/fuzz"
    machine = sfn.create_state_machine(name="fuzz-machine", roleArn=role, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    ids += ["fuzz-machine", machine, execution, role]
    function = server.client("lambda").create_function(
        FunctionName="fuzz-fn", Runtime="python3.12", Handler="h.handler", Role=role, Code={"ZipFile": _zip()})
    ids += ["fuzz-fn", function["FunctionArn"], "$LATEST"]
    server.client("scheduler").create_schedule_group(Name="fuzz-group")
    return ids


def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the seed resource did not become ready"
        time.sleep(0.02)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()

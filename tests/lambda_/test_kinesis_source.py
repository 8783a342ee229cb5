"""Kinesis event source mappings: AWS's event shape, bisect on error, the failure record, partial batch
responses, record age, LATEST and checkpoints that survive a killed server."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.lambda_.conftest import ROLE, eventually, make_zip

# The handler reports every invocation to a FIFO queue (in order) and fails on a record "bad".
RECORDER = """
import base64, json, os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    sqs.send_message(QueueUrl=os.environ["SEEN"], MessageGroupId="g", MessageDeduplicationId=context.aws_request_id,
                     MessageBody=json.dumps({"data": data, "event": event}))
    if os.environ.get("MODE") == "report":
        return {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]}
                                      for r, d in zip(event["Records"], data) if d == "bad"]}
    if "bad" in data:
        raise ValueError("bad record")
    return {}
"""


def make_stream(server: Any, name: str, shards: int = 1) -> str:
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    eventually(lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE", 10)
    return str(kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"])


def make_queue(server: Any, name: str) -> tuple[str, str]:
    sqs = server.client("sqs")
    attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def make_recorder(server: Any, name: str, seen_url: str, mode: str = "raise") -> None:
    server.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=10,
        Code={"ZipFile": make_zip({"app.py": RECORDER})},
        Environment={"Variables": {"SEEN": seen_url, "MODE": mode}})


def put(server: Any, stream: str, *data: str) -> list[str]:
    answer = server.client("kinesis").put_records(StreamName=stream, Records=[
        {"Data": d.encode(), "PartitionKey": f"key-{d}"} for d in data])
    assert answer["FailedRecordCount"] == 0
    return [r["SequenceNumber"] for r in answer["Records"]]


def invocations(server: Any, url: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    """The next `count` invocations the recorder reported, in order."""
    sqs = server.client("sqs")
    seen: list[dict[str, Any]] = []

    def more() -> bool:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") or []:
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(seen) >= count
    eventually(more, timeout)
    return seen


def nothing_more(server: Any, url: str, wait: float = 1.5) -> None:
    time.sleep(wait)
    assert not server.client("sqs").receive_message(QueueUrl=url).get("Messages")


def failure_record(server: Any, url: str) -> dict[str, Any]:
    sqs = server.client("sqs")
    message = eventually(lambda: (sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") or [None])[0],
                         30)
    return dict(json.loads(message["Body"]))


def test_a_failing_batch_is_bisected_until_the_bad_record_alone_reaches_the_failure_destination(
        server: Any, unique: str) -> None:
    lam = server.client("lambda")
    stream_arn = make_stream(server, f"bisect-{unique}")
    seen_url, _ = make_queue(server, f"seen-{unique}.fifo")
    dest_url, dest_arn = make_queue(server, f"failed-{unique}")
    make_recorder(server, f"bisect-{unique}", seen_url)
    data = ["a0", "a1", "a2", "bad", "a4", "a5", "a6", "a7"]
    sequences = put(server, f"bisect-{unique}", *data)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=f"bisect-{unique}", StartingPosition="TRIM_HORIZON", BatchSize=8,
        BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}})
    try:
        assert mapping["State"] == "Creating" and mapping["BisectBatchOnFunctionError"] is True
        calls = invocations(server, seen_url, 7)
        assert [c["data"] for c in calls] == [
            data, data[:4], ["a0", "a1"], ["a2", "bad"], ["a2"], ["bad"], data[4:]]
        first = calls[0]["event"]["Records"][0]
        assert first["eventSource"] == "aws:kinesis" and first["eventName"] == "aws:kinesis:record"
        assert first["eventVersion"] == "1.0" and first["awsRegion"] == "us-east-1"
        assert first["eventSourceARN"] == stream_arn and first["invokeIdentityArn"] == ROLE
        assert first["eventID"] == f"shardId-000000000000:{sequences[0]}"
        assert first["kinesis"]["kinesisSchemaVersion"] == "1.0"
        assert first["kinesis"]["partitionKey"] == "key-a0" and first["kinesis"]["sequenceNumber"] == sequences[0]
        assert first["kinesis"]["data"] == "YTA=" and isinstance(first["kinesis"]["approximateArrivalTimestamp"],
                                                                  float)
        record = failure_record(server, dest_url)
        assert record["version"] == "1.0"
        assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert record["requestContext"]["functionArn"] == lam.get_function(
            FunctionName=f"bisect-{unique}")["Configuration"]["FunctionArn"]
        assert record["responseContext"]["functionError"] == "Unhandled"
        info = record["KinesisBatchInfo"]
        assert info["shardId"] == "shardId-000000000000" and info["streamArn"] == stream_arn
        assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequences[3]
        assert info["batchSize"] == 1 and info["approximateArrivalOfFirstRecord"].endswith("Z")
        nothing_more(server, seen_url, 1.0)
        assert lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"].startswith("PROBLEM")
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_reported_item_failures_retry_from_the_lowest_sequence_number(server: Any, unique: str) -> None:
    lam = server.client("lambda")
    stream_arn = make_stream(server, f"report-{unique}")
    seen_url, _ = make_queue(server, f"seen-r-{unique}.fifo")
    dest_url, dest_arn = make_queue(server, f"failed-r-{unique}")
    make_recorder(server, f"report-{unique}", seen_url, mode="report")
    sequences = put(server, f"report-{unique}", "a0", "bad", "a2")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=f"report-{unique}", StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}})
    try:
        calls = invocations(server, seen_url, 2)
        assert [c["data"] for c in calls] == [["a0", "bad", "a2"], ["bad", "a2"]]
        record = failure_record(server, dest_url)
        assert record["requestContext"]["approximateInvokeCount"] == 2
        assert record["responseContext"]["functionError"] is None  # AWS: null, the function answered
        assert record["KinesisBatchInfo"]["startSequenceNumber"] == sequences[1]
        assert record["KinesisBatchInfo"]["endSequenceNumber"] == sequences[2]
        assert record["KinesisBatchInfo"]["batchSize"] == 2
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_latest_starts_at_creation_and_checkpoints_survive_a_killed_server(fresh_server: Any, unique: str) -> None:
    lam = fresh_server.client("lambda")
    stream_arn = make_stream(fresh_server, "resume")
    seen_url, _ = make_queue(fresh_server, "seen.fifo")
    make_recorder(fresh_server, "resume", seen_url)
    put(fresh_server, "resume", "before")
    mapping = lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="resume",
                                              StartingPosition="LATEST")
    put(fresh_server, "resume", "r1")
    assert [c["data"] for c in invocations(fresh_server, seen_url, 1)] == [["r1"]]
    eventually(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"] == "OK")
    fresh_server.kill()
    fresh_server.start()
    put(fresh_server, "resume", "r2")
    assert [c["data"] for c in invocations(fresh_server, seen_url, 1)] == [["r2"]]
    nothing_more(fresh_server, seen_url)


def test_records_older_than_the_maximum_age_are_discarded_unsent(fresh_server: Any, unique: str) -> None:
    lam = fresh_server.client("lambda")
    stream_arn = make_stream(fresh_server, "aged")
    seen_url, _ = make_queue(fresh_server, "seen.fifo")
    dest_url, dest_arn = make_queue(fresh_server, "aged-failures")
    make_recorder(fresh_server, "aged", seen_url)
    sequences = put(fresh_server, "aged", "old1", "old2")
    fresh_server.advance_clock(120)
    lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="aged", StartingPosition="TRIM_HORIZON",
                                    MaximumRecordAgeInSeconds=60,
                                    DestinationConfig={"OnFailure": {"Destination": dest_arn}})
    record = failure_record(fresh_server, dest_url)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == sequences[0]
    assert record["KinesisBatchInfo"]["batchSize"] == 2
    put(fresh_server, "aged", "fresh")
    assert [c["data"] for c in invocations(fresh_server, seen_url, 1)] == [["fresh"]]


def test_parallelization_keeps_order_per_partition_key(server: Any, unique: str) -> None:
    lam = server.client("lambda")
    stream_arn = make_stream(server, f"lanes-{unique}")
    seen_url, _ = make_queue(server, f"seen-l-{unique}.fifo")
    make_recorder(server, f"lanes-{unique}", seen_url)
    kinesis = server.client("kinesis")
    kinesis.put_records(StreamName=f"lanes-{unique}", Records=[
        {"Data": f"{key}-{n}".encode(), "PartitionKey": key} for n in range(4) for key in ("k1", "k2", "k3")])
    mapping = lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=f"lanes-{unique}",
                                              StartingPosition="TRIM_HORIZON", BatchSize=2,
                                              ParallelizationFactor=3)
    try:
        assert mapping["ParallelizationFactor"] == 3
        delivered = [d for call in invocations(server, seen_url, 6) for d in call["data"]]
        assert sorted(delivered) == sorted(f"{k}-{n}" for n in range(4) for k in ("k1", "k2", "k3"))
        for key in ("k1", "k2", "k3"):
            assert [d for d in delivered if d.startswith(key)] == [f"{key}-{n}" for n in range(4)]
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_stream_mappings_validate_like_aws(server: Any, unique: str) -> None:
    import pytest
    from botocore.exceptions import ClientError

    lam = server.client("lambda")
    stream_arn = make_stream(server, f"valid-{unique}")
    make_recorder(server, f"valid-{unique}", "unused")
    for kwargs in ({}, {"StartingPosition": "TRIM_HORIZON", "MaximumRecordAgeInSeconds": 30}):
        with pytest.raises(ClientError) as caught:
            lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=f"valid-{unique}", **kwargs)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(EventSourceArn=stream_arn.replace(unique, "missing"),
                                        FunctionName=f"valid-{unique}", StartingPosition="LATEST")
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_an_enhanced_fan_out_consumer_arn_feeds_the_mapping_and_a_missing_consumer_is_refused(
        server: Any, unique: str) -> None:
    import pytest
    from botocore.exceptions import ClientError

    lam, kinesis = server.client("lambda"), server.client("kinesis")
    stream_arn = make_stream(server, f"efo-{unique}")
    seen_url, _ = make_queue(server, f"seen-efo-{unique}.fifo")
    make_recorder(server, f"efo-{unique}", seen_url)
    consumer_arn = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="reader")["Consumer"][
        "ConsumerARN"]
    assert consumer_arn.startswith(f"{stream_arn}/consumer/reader:")
    eventually(lambda: kinesis.describe_stream_consumer(ConsumerARN=consumer_arn)["ConsumerDescription"][
        "ConsumerStatus"] == "ACTIVE", 15)
    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(EventSourceArn=consumer_arn.replace("/reader:", "/nobody:"),
                                        FunctionName=f"efo-{unique}", StartingPosition="TRIM_HORIZON")
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    sequences = put(server, f"efo-{unique}", "e1", "e2")
    mapping = lam.create_event_source_mapping(EventSourceArn=consumer_arn, FunctionName=f"efo-{unique}",
                                              StartingPosition="TRIM_HORIZON")
    try:
        assert mapping["EventSourceArn"] == consumer_arn
        assert lam.list_event_source_mappings(EventSourceArn=consumer_arn)["EventSourceMappings"][0][
            "UUID"] == mapping["UUID"]
        [call] = invocations(server, seen_url, 1)
        assert call["data"] == ["e1", "e2"]
        first = call["event"]["Records"][0]
        assert first["eventSourceARN"] == stream_arn
        assert first["eventID"] == f"shardId-000000000000:{sequences[0]}"
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_stream_mapping_says_user_action_and_a_second_one_for_the_same_function_conflicts(
        server: Any, unique: str) -> None:
    import pytest
    from botocore.exceptions import ClientError

    lam = server.client("lambda")
    stream = make_stream(server, f"dup-{unique}")
    seen_url, _ = make_queue(server, f"dup-seen-{unique}")
    make_recorder(server, f"dup-{unique}", seen_url)
    first = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=f"dup-{unique}",
                                            StartingPosition="LATEST")
    try:
        assert first["StateTransitionReason"] == "User action"  # AWS's wording for stream sources
        with pytest.raises(ClientError) as caught:
            lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=f"dup-{unique}",
                                            StartingPosition="LATEST")
        assert caught.value.response["Error"] == {
            "Code": "ResourceConflictException",
            "Message": f'The event source arn (" {stream} ") and function (" dup-{unique} ") provided mapping '
                       f"already exists. Please update or delete the existing mapping with UUID {first['UUID']}"}
    finally:
        lam.delete_event_source_mapping(UUID=first["UUID"])
        lam.delete_function(FunctionName=f"dup-{unique}")

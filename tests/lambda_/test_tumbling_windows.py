"""Tumbling windows on Kinesis event source mappings: state handed from invocation to invocation within
a window, the flagged final invocation when the (injected) clock passes the window's end, a fresh
state for the next window, and a response without `state` counted as a failure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.lambda_.conftest import ROLE, make_zip
from tests.lambda_.test_kinesis_source import failure_record, invocations, make_queue, make_stream, nothing_more, put

WINDOW = 300

AGGREGATOR = """
import base64, json, os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    info = {k: v for k, v in event.items() if k != "Records"}
    arrivals = [r["kinesis"]["approximateArrivalTimestamp"] for r in event["Records"]]
    sqs.send_message(QueueUrl=os.environ["SEEN"], MessageGroupId="g", MessageDeduplicationId=context.aws_request_id,
                     MessageBody=json.dumps({"data": data, "info": info, "arrivals": arrivals}))
    if "nostate" in data:
        return {"batchItemFailures": []}
    return {"state": {"seen": event["state"].get("seen", []) + data}}
"""


def server_now(server: Any) -> float:
    """The server's clock, read from the arrival time Kinesis stamps on a record of a probe stream."""
    kinesis = server.client("kinesis")
    make_stream(server, "clock-probe")
    put(server, "clock-probe", "tick")
    iterator = kinesis.get_shard_iterator(StreamName="clock-probe", ShardId="shardId-000000000000",
                                          ShardIteratorType="LATEST")["ShardIterator"]
    put(server, "clock-probe", "tock")
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    return float(records[-1]["ApproximateArrivalTimestamp"].timestamp())


def iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_window_passes_state_between_invocations_and_ends_with_a_flagged_final_invoke(fresh_server: Any) -> None:
    lam = fresh_server.client("lambda")
    stream_arn = make_stream(fresh_server, "win")
    seen_url, _ = make_queue(fresh_server, "seen.fifo")
    dest_url, dest_arn = make_queue(fresh_server, "win-failures")
    lam.create_function(FunctionName="agg", Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=10,
                        Code={"ZipFile": make_zip({"app.py": AGGREGATOR})},
                        Environment={"Variables": {"SEEN": seen_url}})
    # Start a window one second in, so the whole test runs inside it until the clock is moved on.
    now = server_now(fresh_server)
    fresh_server.advance_clock(WINDOW - now % WINDOW + 1)
    start = (now // WINDOW + 1) * WINDOW
    put(fresh_server, "win", "a", "b")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName="agg", StartingPosition="TRIM_HORIZON", BatchSize=1,
        TumblingWindowInSeconds=WINDOW, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}})
    assert mapping["TumblingWindowInSeconds"] == WINDOW

    first, second = invocations(fresh_server, seen_url, 2)
    assert [first["data"], second["data"]] == [["a"], ["b"]]
    assert first["info"] == {
        "window": {"start": iso(start), "end": iso(start + WINDOW)}, "state": {},
        "shardId": "shardId-000000000000", "eventSourceARN": stream_arn,
        "isFinalInvokeForWindow": False, "isWindowTerminatedEarly": False}
    assert start <= first["arrivals"][0] < start + WINDOW
    assert second["info"]["state"] == {"seen": ["a"]} and second["info"]["window"] == first["info"]["window"]
    nothing_more(fresh_server, seen_url, 0.5)  # the window is still open

    fresh_server.advance_clock(WINDOW)
    [final] = invocations(fresh_server, seen_url, 1)
    assert final["data"] == []
    assert final["info"]["isFinalInvokeForWindow"] is True and final["info"]["isWindowTerminatedEarly"] is False
    assert final["info"]["state"] == {"seen": ["a", "b"]} and final["info"]["window"] == first["info"]["window"]

    # The next window starts with a fresh state; an answer without `state` is a failed invocation.
    put(fresh_server, "win", "c", "nostate")
    c, failed = invocations(fresh_server, seen_url, 2)
    assert c["data"] == ["c"] and c["info"]["state"] == {} and c["info"]["isFinalInvokeForWindow"] is False
    assert c["info"]["window"] == {"start": iso(start + WINDOW), "end": iso(start + 2 * WINDOW)}
    assert failed["data"] == ["nostate"] and failed["info"]["state"] == {"seen": ["c"]}
    record = failure_record(fresh_server, dest_url)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["responseContext"]["functionError"] is None and record["KinesisBatchInfo"]["batchSize"] == 1

    fresh_server.advance_clock(WINDOW)
    [final] = invocations(fresh_server, seen_url, 1)
    assert final["info"]["isFinalInvokeForWindow"] is True and final["info"]["state"] == {"seen": ["c"]}
    nothing_more(fresh_server, seen_url, 0.5)

"""Async invokes (durable queue, retries, destinations, restart) and the SQS event source mapping."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.lambda_.conftest import ROLE, eventually, make_zip

FAILS = "def handler(event, context):\n    raise RuntimeError('nope ' + str(event.get('n')))\n"
OK = "def handler(event, context):\n    return {'seen': event}\n"


def queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive_one(sqs: Any, url: str) -> dict[str, Any]:
    def check() -> Any:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")
        return messages[0] if messages else None
    return eventually(check, 20)


def test_an_event_invoke_sends_a_success_record_to_its_destination(server: Any, lam: Any, make_function: Any,
                                                                   unique: str) -> None:
    sqs = server.client("sqs")
    url, arn = queue(sqs, f"ok-dest-{unique}")
    name = make_function(OK)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 1}')["StatusCode"] == 202
    record = json.loads(receive_one(sqs, url)["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestPayload"] == {"x": 1} and record["responsePayload"] == {"seen": {"x": 1}}


def test_failed_event_invokes_retry_then_reach_the_failure_destination(fresh_server: Any, unique: str) -> None:
    lam, sqs = fresh_server.client("lambda"), fresh_server.client("sqs")
    url, arn = queue(sqs, f"fail-dest-{unique}")
    lam.create_function(FunctionName="failing", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": FAILS})})
    lam.put_function_event_invoke_config(FunctionName="failing", MaximumRetryAttempts=1,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName="failing", InvocationType="Event", Payload=b'{"n": 7}')
    time.sleep(1.5)  # the first attempt runs now; the retry waits AWS's minute
    assert not sqs.receive_message(QueueUrl=url).get("Messages")
    fresh_server.advance_clock(61)
    record = json.loads(receive_one(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "nope 7"


def test_queued_event_invokes_survive_a_killed_server(fresh_server: Any, unique: str) -> None:
    lam, sqs = fresh_server.client("lambda"), fresh_server.client("sqs")
    url, arn = queue(sqs, f"restart-{unique}")
    lam.create_function(FunctionName="later", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": FAILS})})
    lam.put_function_event_invoke_config(FunctionName="later", MaximumRetryAttempts=1,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName="later", InvocationType="Event", Payload=b'{"n": 1}')
    time.sleep(1.5)  # first attempt fails; the retry is a committed timer a minute out
    fresh_server.kill()
    fresh_server.start()
    fresh_server.advance_clock(61)
    record = json.loads(receive_one(fresh_server.client("sqs"), url)["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"


def test_sqs_mapping_deletes_successes_and_keeps_reported_failures(server: Any, lam: Any, make_function: Any,
                                                                  unique: str) -> None:
    sqs = server.client("sqs")
    url, arn = queue(sqs, f"src-{unique}")
    code = ("import json\ndef handler(event, context):\n    failures = []\n"
            "    for r in event['Records']:\n        if json.loads(r['body']).get('bad'):\n"
            "            failures.append({'itemIdentifier': r['messageId']})\n"
            "    return {'batchItemFailures': failures}\n")
    name = make_function(code)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30"})
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])
    assert mapping["State"] == "Creating"
    try:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"bad": False}))
        bad_id = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"bad": True}))["MessageId"]

        def settled() -> bool:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            return attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "1"
        eventually(settled, 20)
        got = lam.get_event_source_mapping(UUID=mapping["UUID"])
        assert got["State"] == "Enabled" and got["EventSourceArn"] == arn
        lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
        server.advance_clock(31)
        message = receive_one(sqs, url)
        assert message["MessageId"] == bad_id
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_an_sqs_mapping_passes_records_in_aws_shape(server: Any, lam: Any, make_function: Any, unique: str) -> None:
    sqs = server.client("sqs")
    url, arn = queue(sqs, f"shape-{unique}")
    _, sink_arn = queue(sqs, f"shape-sink-{unique}")
    sink_url = sqs.get_queue_url(QueueName=f"shape-sink-{unique}")["QueueUrl"]
    code = ("import boto3, json, os\ndef handler(event, context):\n"
            "    boto3.client('sqs').send_message(QueueUrl=os.environ['SINK'], MessageBody=json.dumps(event))\n")
    name = make_function(code, Environment={"Variables": {"SINK": sink_url}})
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=1)
    try:
        assert "LastProcessingResult" not in mapping  # AWS: stream sources only
        sqs.send_message(QueueUrl=url, MessageBody="plain")
        sqs.send_message(QueueUrl=url, MessageBody="tagged",
                         MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        records = [json.loads(receive_one(sqs, sink_url)["Body"])["Records"][0] for _ in range(2)]
        by_body = {r["body"]: r for r in records}
        assert by_body["plain"]["md5OfMessageAttributes"] is None and by_body["plain"]["messageAttributes"] == {}
        assert len(by_body["tagged"]["md5OfMessageAttributes"]) == 32
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_mapping_on_a_missing_queue_or_with_a_bad_filter_is_refused(lam: Any, make_function: Any,
                                                                      unique: str) -> None:
    import pytest
    from botocore.exceptions import ClientError

    name = make_function(OK)
    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(EventSourceArn=f"arn:aws:sqs:us-east-1:000000000000:missing-{unique}",
                                        FunctionName=name, BatchSize=1)
    assert caught.value.response["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
                   "SQS Error Message: The specified queue does not exist."}
    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(EventSourceArn=f"arn:aws:sqs:us-east-1:000000000000:missing-{unique}",
                                        FunctionName=name, FilterCriteria={"Filters": [{"Pattern": "simple string"}]})
    assert caught.value.response["Error"]["Message"] == "Invalid filter pattern definition."

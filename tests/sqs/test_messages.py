"""Sending, receiving, deleting and visibility of messages over both SQS protocols."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.sqs.test_queues import error_code


def test_a_sent_message_is_received_with_its_digest_and_attributes(sqs: Any, queue_url: str) -> None:
    sent = sqs.send_message(
        QueueUrl=queue_url,
        MessageBody="hello\r\nworld <&>",
        MessageAttributes={
            "colour": {"DataType": "String", "StringValue": "blue"},
            "size": {"DataType": "Number", "StringValue": "42"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            "custom": {"DataType": "String.custom", "StringValue": "x"},
        },
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello\r\nworld <&>").hexdigest()
    got = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"], AttributeNames=["All"])
    [message] = got["Messages"]
    assert message["Body"] == "hello\r\nworld <&>"
    assert message["MessageId"] == sent["MessageId"]
    assert message["ReceiptHandle"] != message["MessageId"]
    assert message["MessageAttributes"]["blob"] == {"DataType": "Binary", "BinaryValue": b"\x00\xff"}
    assert message["MessageAttributes"]["size"] == {"DataType": "Number", "StringValue": "42"}
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert message["Attributes"]["SenderId"] == "AKIDEXAMPLE"
    assert int(message["Attributes"]["SentTimestamp"]) > 1_600_000_000_000


def test_message_attributes_can_be_selected_by_name_and_prefix(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="x", MessageAttributes={
        "order.id": {"DataType": "String", "StringValue": "1"},
        "order.kind": {"DataType": "String", "StringValue": "a"},
        "other": {"DataType": "String", "StringValue": "b"},
    })
    [message] = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["order.*"])["Messages"]
    assert set(message["MessageAttributes"]) == {"order.id", "order.kind"}


def test_a_received_message_is_invisible_until_its_visibility_timeout_passes(
        sqs: Any, queue_url: str, server: ServerProcess) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="once")
    first = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=30)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
    server.advance_clock(31)
    again = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert again["MessageId"] == first["MessageId"]
    assert again["ReceiptHandle"] != first["ReceiptHandle"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_deleted_messages_never_come_back(sqs: Any, queue_url: str, server: ServerProcess) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="bye")
    message = sqs.receive_message(QueueUrl=queue_url)["Messages"][0]
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    server.advance_clock(31)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)


def test_a_malformed_receipt_handle_is_refused(sqs: Any, queue_url: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle="not-a-handle")
    assert error_code(excinfo) == "ReceiptHandleIsInvalid"


def test_change_visibility_makes_a_message_visible_again(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="again")
    message = sqs.receive_message(QueueUrl=queue_url)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["MessageId"] == message["MessageId"]


def test_a_standard_message_takes_a_new_visibility_after_its_timeout_ended(
        sqs: Any, queue_url: str, server: ServerProcess) -> None:
    # Recorded against AWS: ChangeMessageVisibility after the timeout expired succeeds.
    sqs.send_message(QueueUrl=queue_url, MessageBody="late")
    message = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=5)["Messages"][0]
    server.advance_clock(6)
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=10)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
    server.advance_clock(11)
    assert sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"] == "late"


def test_a_fifo_message_refuses_a_visibility_change_once_its_timeout_ended(
        sqs: Any, fifo_url: str, server: ServerProcess) -> None:
    sqs.send_message(QueueUrl=fifo_url, MessageBody="late", MessageGroupId="g", MessageDeduplicationId="d")
    message = sqs.receive_message(QueueUrl=fifo_url, VisibilityTimeout=5)["Messages"][0]
    server.advance_clock(6)
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=fifo_url, ReceiptHandle=message["ReceiptHandle"],
                                      VisibilityTimeout=10)
    assert error_code(excinfo) == "AWS.SimpleQueueService.MessageNotInflight"
    with pytest.raises(ClientError) as excinfo:
        sqs.delete_message(QueueUrl=fifo_url, ReceiptHandle=message["ReceiptHandle"])
    assert excinfo.value.response["Error"]["Message"] == (
        f"Value {message['ReceiptHandle']} for parameter ReceiptHandle is invalid. Reason: The receipt handle has "
        "expired.")


def test_change_visibility_of_a_deleted_message_is_refused(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="gone")
    message = sqs.receive_message(QueueUrl=queue_url)["Messages"][0]
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                      VisibilityTimeout=10)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_message_delay_hides_a_message_until_it_passes(sqs: Any, queue_url: str, server: ServerProcess) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="later", DelaySeconds=60)
    counts = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
    server.advance_clock(61)
    assert sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"] == "later"


def test_queue_delay_applies_when_the_message_sets_none(sqs: Any, unique: str, server: ServerProcess) -> None:
    url = sqs.create_queue(QueueName=f"delayed-{unique}", Attributes={"DelaySeconds": "120"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    server.advance_clock(121)
    assert "Messages" in sqs.receive_message(QueueUrl=url)


def test_messages_expire_after_the_retention_period(sqs: Any, unique: str, server: ServerProcess) -> None:
    url = sqs.create_queue(QueueName=f"short-{unique}", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="fleeting")
    server.advance_clock(61)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_approximate_counts_follow_message_states(sqs: Any, queue_url: str) -> None:
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    sqs.send_message(QueueUrl=queue_url, MessageBody="d", DelaySeconds=600)
    sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "2"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_receive_returns_up_to_the_requested_number(sqs: Any, queue_url: str) -> None:
    for i in range(15):
        sqs.send_message(QueueUrl=queue_url, MessageBody=str(i))
    assert len(sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]) == 10
    assert len(sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]) == 5


@pytest.mark.parametrize("args", [{"MaxNumberOfMessages": 11}, {"MaxNumberOfMessages": 0},
                                  {"WaitTimeSeconds": 21}, {"VisibilityTimeout": 43201}])
def test_receive_parameters_out_of_range_are_refused(sqs: Any, queue_url: str, args: dict[str, int]) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.receive_message(QueueUrl=queue_url, **args)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_a_long_poll_returns_as_soon_as_a_message_arrives(sqs: Any, queue_url: str, server: ServerProcess) -> None:
    sender = server.client("sqs")
    timer = threading.Timer(0.3, lambda: sender.send_message(QueueUrl=queue_url, MessageBody="wake"))
    started = time.monotonic()
    timer.start()
    got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20)
    timer.join()
    assert got["Messages"][0]["Body"] == "wake"
    assert time.monotonic() - started < 10  # far less than the 20 s wait: it woke on arrival


def test_a_long_poll_on_an_empty_queue_waits_then_returns_nothing(sqs: Any, queue_url: str) -> None:
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
    assert time.monotonic() - started >= 0.9


def test_the_trace_header_of_the_request_becomes_the_aws_trace_header(server: ServerProcess, queue_url: str) -> None:
    client = server.client("sqs")
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    client.meta.events.register("before-sign.sqs.SendMessage",
                                lambda request, **_: request.headers.__setitem__("X-Amzn-Trace-Id", trace))
    client.send_message(QueueUrl=queue_url, MessageBody="traced")
    message = client.receive_message(QueueUrl=queue_url, MessageSystemAttributeNames=["AWSTraceHeader"])
    assert message["Messages"][0]["Attributes"]["AWSTraceHeader"] == trace


def test_an_explicit_aws_trace_header_system_attribute_is_kept(sqs: Any, queue_url: str) -> None:
    sent = sqs.send_message(QueueUrl=queue_url, MessageBody="x", MessageSystemAttributes={
        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}})
    assert sent["MD5OfMessageSystemAttributes"]
    message = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["All"])["Messages"][0]
    assert message["Attributes"]["AWSTraceHeader"] == "Root=1-abc"


def test_a_message_over_the_size_limit_is_refused(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"small-{unique}", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert error_code(excinfo) == "InvalidParameterValue"
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)


def test_the_default_limit_is_one_mebibyte(sqs_json: Any, unique: str) -> None:
    url = sqs_json.create_queue(QueueName=f"big-{unique}")["QueueUrl"]
    sqs_json.send_message(QueueUrl=url, MessageBody="x" * 1_048_576)
    with pytest.raises(ClientError) as excinfo:
        sqs_json.send_message(QueueUrl=url, MessageBody="x" * 1_048_577)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_invalid_characters_are_refused(sqs: Any, queue_url: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=queue_url, MessageBody="bad \x01 char")
    assert error_code(excinfo) == "InvalidMessageContents"


@pytest.mark.parametrize("attributes", [
    {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)},
    {"n": {"DataType": "Number", "StringValue": "not-a-number"}},
    {"s": {"DataType": "Strange", "StringValue": "v"}},
    {"aws.reserved": {"DataType": "String", "StringValue": "v"}},
])
def test_invalid_message_attributes_are_refused(sqs: Any, queue_url: str, attributes: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=queue_url, MessageBody="x", MessageAttributes=attributes)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_send_batch_reports_each_entry(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"batch-{unique}", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    result = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok1", "MessageBody": "one"},
        {"Id": "toolong", "MessageBody": "x" * 2000},
        {"Id": "ok2", "MessageBody": "two", "DelaySeconds": 0},
    ])
    assert [e["Id"] for e in result["Successful"]] == ["ok1", "ok2"]
    assert result["Failed"][0]["Id"] == "toolong"
    assert result["Failed"][0]["Code"] == "InvalidParameterValue" and result["Failed"][0]["SenderFault"] is True
    bodies = {m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]}
    assert bodies == {"one", "two"}


@pytest.mark.parametrize("entries,code", [
    ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
    ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
    ([{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}],
     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
    ([{"Id": "bad id!", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
    ([{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "x" * 600_000}],
     "AWS.SimpleQueueService.BatchRequestTooLong"),
])
def test_batch_level_errors(sqs: Any, queue_url: str, entries: list[dict[str, Any]], code: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    assert error_code(excinfo) == code


def test_delete_and_visibility_batches(sqs: Any, queue_url: str) -> None:
    sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    changed = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
        {"Id": "m0", "ReceiptHandle": received[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
    ])
    assert [e["Id"] for e in changed["Successful"]] == ["m0"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
        {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received[1:])
    ])
    assert len(deleted["Successful"]) == 2 and deleted.get("Failed", []) == []
    remaining = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["MessageId"] for m in remaining] == [received[0]["MessageId"]]


def test_delete_batch_of_a_standard_queue_answers_each_entry(sqs: Any, queue_url: str) -> None:
    """One statement deletes a standard queue's batch; a malformed handle still fails alone, and a
    handle given twice (its message deleted by the first) succeeds twice, as on AWS."""
    sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(4)])
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 4
    handles = [m["ReceiptHandle"] for m in received]
    deleted = sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
        {"Id": "a", "ReceiptHandle": handles[0]}, {"Id": "bad", "ReceiptHandle": "garbage"},
        {"Id": "b", "ReceiptHandle": handles[1]}, {"Id": "again", "ReceiptHandle": handles[1]},
        {"Id": "c", "ReceiptHandle": handles[2]},
    ])
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["a", "again", "b", "c"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in deleted["Failed"]] == [("bad", "ReceiptHandleIsInvalid", True)]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "1")
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handles[3], VisibilityTimeout=0)
    assert [m["MessageId"] for m in sqs.receive_message(QueueUrl=queue_url)["Messages"]] == [received[3]["MessageId"]]

"""Publish and PublishBatch: validation errors, fan-out, raw delivery, message structure, tracing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.sns.conftest import captured, receive, wait_for
from tests.sns.test_topics import error_of


def publish_error(sns: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as excinfo:
        sns.publish(**kwargs)
    return error_of(excinfo)


def test_publish_fans_out_to_every_queue(sns: Any, sqs: Any, topic_arn: str, make_queue: Any) -> None:
    queues = [make_queue() for _ in range(3)]
    for _, arn in queues:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    message_id = sns.publish(TopicArn=topic_arn, Message="to all", Subject="hello",
                             MessageAttributes={"n": {"DataType": "Number", "StringValue": "5"},
                                                "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})["MessageId"]
    for url, _ in queues:
        [message] = receive(sqs, url, 1)
        envelope = json.loads(message["Body"])
        assert envelope["Type"] == "Notification"
        assert envelope["MessageId"] == message_id
        assert envelope["TopicArn"] == topic_arn
        assert (envelope["Message"], envelope["Subject"]) == ("to all", "hello")
        assert envelope["SignatureVersion"] == "1" and envelope["Signature"]
        assert "/_eventyard/sns/SimpleNotificationService-" in envelope["SigningCertURL"]
        assert "Action=Unsubscribe" in envelope["UnsubscribeURL"]
        assert envelope["MessageAttributes"] == {"n": {"Type": "Number", "Value": "5"},
                                                 "b": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()}}
        assert envelope["Timestamp"].endswith("Z")


def test_raw_delivery_sends_the_body_and_maps_attributes(sns: Any, sqs: Any, topic_arn: str, make_queue: Any) -> None:
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic_arn, Message="raw body", MessageAttributes={
        "s": {"DataType": "String", "StringValue": "text"},
        "n": {"DataType": "Number", "StringValue": "1.5"},
        "a": {"DataType": "String.Array", "StringValue": '["x", 1]'},
        "b": {"DataType": "Binary", "BinaryValue": b"\xff"},
    })
    [message] = receive(sqs, url, 1, MessageAttributeNames=["All"])
    assert message["Body"] == "raw body"
    attributes = message["MessageAttributes"]
    assert attributes["s"] == {"DataType": "String", "StringValue": "text"}
    assert attributes["n"] == {"DataType": "Number", "StringValue": "1.5"}
    assert attributes["a"] == {"DataType": "String.Array", "StringValue": '["x", 1]'}
    assert attributes["b"] == {"DataType": "Binary", "BinaryValue": b"\xff"}


def test_message_structure_json_picks_the_protocol_message(sns: Any, sqs: Any, server: ServerProcess,
                                                            topic_arn: str, make_queue: Any) -> None:
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    sns.subscribe(TopicArn=topic_arn, Protocol="sms", Endpoint="+15550001111")
    sns.publish(TopicArn=topic_arn, MessageStructure="json",
                Message=json.dumps({"default": "fallback", "sqs": "for queues"}))
    assert json.loads(receive(sqs, url, 1)[0]["Body"])["Message"] == "for queues"
    sms = wait_for(lambda: captured(server, topic_arn=topic_arn, protocol="sms"))
    assert sms[0]["message"] == "fallback"


@pytest.mark.parametrize("message,expected", [
    ("not json", "Invalid parameter: Message Structure - JSON message body failed to parse"),
    ('{"sqs": "x"}', "Invalid parameter: Message Structure - No default entry in JSON message body"),
])
def test_message_structure_json_errors(sns: Any, topic_arn: str, message: str, expected: str) -> None:
    assert publish_error(sns, TopicArn=topic_arn, Message=message, MessageStructure="json") == \
        ("InvalidParameter", expected, 400)


def test_publish_validation_errors(sns: Any, topic_arn: str) -> None:
    assert publish_error(sns, TopicArn=topic_arn, Message="") == ("InvalidParameter", "Invalid parameter: Empty message", 400)
    assert publish_error(sns, TopicArn=topic_arn, Message="x" * (256 * 1024 + 1)) == \
        ("InvalidParameter", "Invalid parameter: Message too long", 400)
    assert publish_error(sns, TopicArn=topic_arn, Message="x", Subject="line\nbreak")[:2] == \
        ("InvalidParameter", "Invalid parameter: Subject")
    assert publish_error(sns, TopicArn=topic_arn, Message="x", Subject="s" * 101)[0] == "InvalidParameter"
    assert publish_error(sns, TopicArn=topic_arn, Message="x", MessageDeduplicationId="d")[0] == "InvalidParameter"
    # A standard topic takes a MessageGroupId (it travels on to SQS fair queues).
    assert sns.publish(TopicArn=topic_arn, Message="x", MessageGroupId="g")["MessageId"]
    assert publish_error(sns, Message="x")[:2] == (
        "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
    assert publish_error(sns, TopicArn="", Message="x")[:2] == (
        "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1")
    assert publish_error(sns, TopicArn=topic_arn, TargetArn=topic_arn, Message="x")[0] == "InvalidParameter"


def test_the_size_limit_counts_attributes_too(sns: Any, topic_arn: str) -> None:
    sns.publish(TopicArn=topic_arn, Message="x" * (256 * 1024))
    assert publish_error(sns, TopicArn=topic_arn, Message="x" * (256 * 1024 - 10), MessageAttributes={
        "attr": {"DataType": "String", "StringValue": "y" * 20}})[1] == "Invalid parameter: Message too long"


@pytest.mark.parametrize("attribute,message", [
    ({"DataType": "String", "StringValue": ""},
     "The message attribute 'a' must contain non-empty message attribute value for message attribute type 'String'."),
    ({"DataType": "Color", "StringValue": "red"},
     "The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is "
     "Binary, Number, and String."),
    ({"DataType": "Number", "StringValue": "five"}, "Could not cast message attribute 'a' value to number."),
    ({"DataType": "Binary"},
     "The message attribute 'a' must contain non-empty message attribute value for message attribute type 'Binary'."),
])
def test_bad_message_attributes_are_parameter_value_invalid(sns: Any, topic_arn: str, attribute: dict[str, Any],
                                                            message: str) -> None:
    assert publish_error(sns, TopicArn=topic_arn, Message="x", MessageAttributes={"a": attribute}) == \
        ("ParameterValueInvalid", message, 400)


def test_reserved_attribute_names_are_rejected(sns: Any, topic_arn: str) -> None:
    code, _, _ = publish_error(sns, TopicArn=topic_arn, Message="x",
                               MessageAttributes={"AWS.thing": {"DataType": "String", "StringValue": "v"}})
    assert code == "ParameterValueInvalid"


def test_publish_to_a_phone_number_is_captured(sns: Any, server: ServerProcess, unique: str) -> None:
    number = "+1555" + str(int(unique[:6], 16) % 10_000_000).zfill(7)
    message_id = sns.publish(PhoneNumber=number, Message="your code is 1234")["MessageId"]
    [record] = captured(server, phone_number=number)
    assert (record["message_id"], record["message"], record["protocol"]) == (message_id, "your code is 1234", "sms")


def test_publish_batch_reports_each_entry(sns: Any, sqs: Any, topic_arn: str, make_queue: Any) -> None:
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=[
        {"Id": "one", "Message": "first"},
        {"Id": "three", "Message": "third", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
    ])
    assert sorted(e["Id"] for e in response["Successful"]) == ["one", "three"]
    assert response["Failed"] == []
    assert sorted(m["Body"] for m in receive(sqs, url, 2)) == ["first", "third"]


def test_an_invalid_batch_entry_fails_the_whole_batch(sns: Any, sqs: Any, topic_arn: str, make_queue: Any) -> None:
    # AWS refuses the request (recorded for group ids, dedup ids, structures and attributes): nothing is sent.
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    with pytest.raises(ClientError) as excinfo:
        sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first"}, {"Id": "two", "Message": ""}])
    assert error_of(excinfo) == ("InvalidParameter", "Invalid parameter: Empty message", 400)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None


def test_publish_batch_errors(sns: Any, topic_arn: str) -> None:
    def batch_error(entries: list[dict[str, Any]]) -> tuple[str, str, int]:
        with pytest.raises(ClientError) as excinfo:
            sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
        return error_of(excinfo)

    assert batch_error([{"Id": "a", "Message": "x"}, {"Id": "a", "Message": "y"}])[0] == "BatchEntryIdsNotDistinct"
    assert batch_error([{"Id": str(i), "Message": "x"} for i in range(11)])[0] == "TooManyEntriesInBatchRequest"
    assert batch_error([{"Id": "bad id!", "Message": "x"}])[0] == "InvalidBatchEntryId"
    assert batch_error([{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "y" * 100_000}])[0] == \
        "BatchRequestTooLong"
    assert batch_error([])[0] == "EmptyBatchRequest"


def test_trace_header_reaches_the_fanned_out_sqs_message(sns: Any, sqs: Any, topic_arn: str, make_queue: Any) -> None:
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    def add_trace(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = trace

    sns.meta.events.register("before-sign.sns.Publish", add_trace)
    sns.publish(TopicArn=topic_arn, Message="traced")
    [message] = receive(sqs, url, 1, MessageSystemAttributeNames=["AWSTraceHeader"])
    assert message["Attributes"]["AWSTraceHeader"] == trace


def test_lambda_subscription_without_a_function_dead_letters(sns: Any, sqs: Any, topic_arn: str,
                                                             make_queue: Any) -> None:
    dlq_url, dlq_arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda",
                  Endpoint="arn:aws:lambda:us-east-1:000000000000:function:does-not-exist-anywhere",
                  Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
    message_id = sns.publish(TopicArn=topic_arn, Message="for a missing function")["MessageId"]
    [dead] = receive(sqs, dlq_url, 1, MessageAttributeNames=["All"])
    assert json.loads(dead["Body"])["MessageId"] == message_id
    # The body the function would have got, no attributes added (recorded against AWS).
    assert "MessageAttributes" not in dead


def test_deleted_queue_is_a_client_error_sent_straight_to_the_dlq(sns: Any, sqs: Any, topic_arn: str,
                                                                  make_queue: Any) -> None:
    url, arn = make_queue()
    dlq_url, dlq_arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                  Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn}),
                              "RawMessageDelivery": "true"})
    sqs.delete_queue(QueueUrl=url)
    sns.publish(TopicArn=topic_arn, Message="orphan", MessageAttributes={"tag": {"DataType": "String",
                                                                              "StringValue": "kept"}})
    [dead] = receive(sqs, dlq_url, 1, MessageAttributeNames=["All"])
    assert dead["Body"] == "orphan"
    # Raw delivery: the dead-letter queue gets the message attributes the subscriber would have.
    assert dead["MessageAttributes"] == {"tag": {"DataType": "String", "StringValue": "kept"}}


def test_sqs_deliveries_are_committed_with_the_publish(sns: Any, sqs: Any, topic_arn: str, make_queue: Any) -> None:
    """A standard topic's deliveries to SQS queues are written in the publish's own transaction
    (services/sns/direct.py): when Publish answers, every queue holds the message already, with the
    envelope (or raw body) the outbox would have sent."""
    queues = [make_queue() for _ in range(40)]
    for n, (_, arn) in enumerate(queues):
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                      Attributes={"RawMessageDelivery": "true" if n % 2 else "false"})
    message_id = sns.publish(TopicArn=topic_arn, Message="at once")["MessageId"]
    for n, (url, _) in reversed(list(enumerate(queues))):  # the last subscription's delivery first
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        assert len(got) == 1, f"queue {n} was empty when Publish answered"
        if n % 2:
            assert got[0]["Body"] == "at once"
        else:
            envelope = json.loads(got[0]["Body"])
            assert (envelope["MessageId"], envelope["Message"], envelope["TopicArn"]) == (message_id, "at once", topic_arn)
            assert envelope["Signature"] and "Action=Unsubscribe" in envelope["UnsubscribeURL"]

"""SQS answers as recorded against AWS (LocalStack's AWS-validated snapshots): codes, wording and
the checks AWS makes, over both protocols where they differ."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    return dict(excinfo.value.response["Error"])


def test_json_errors_carry_the_exception_names_and_the_query_codes(sqs_json: Any, unique: str) -> None:
    url = sqs_json.create_queue(QueueName=f"q-{unique}")["QueueUrl"]
    error = _error(sqs_json.receive_message, QueueUrl=url, MaxNumberOfMessages=11)
    assert (error["Code"], error["QueryErrorCode"]) == ("InvalidParameterValue", "InvalidParameterValueException")
    fifo = sqs_json.create_queue(QueueName=f"f-{unique}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    error = _error(sqs_json.send_message, QueueUrl=fifo, MessageBody="m", MessageDeduplicationId="d")
    assert (error["Code"], error["QueryErrorCode"]) == ("MissingParameter", "MissingRequiredParameterException")
    assert error["Message"] == "The request must contain the parameter MessageGroupId."


def test_a_missing_queue_is_worded_per_protocol(server: ServerProcess, sqs_json: Any, unique: str) -> None:
    assert _error(sqs_json.get_queue_url, QueueName=f"none-{unique}")["Message"] == "The specified queue does not exist."
    query = server.legacy_sqs_client()
    assert _error(query.get_queue_url, QueueName=f"none-{unique}")["Message"] == (
        "The specified queue does not exist for this wsdl version.")


def test_standard_queues_take_no_fifo_attributes(sqs: Any, unique: str) -> None:
    def create_error(**attributes: str) -> tuple[str, str]:
        error = _error(sqs.create_queue, QueueName=f"s-{unique}", Attributes=attributes)
        return error["Code"], error["Message"]

    assert create_error(FifoQueue="false") == ("InvalidAttributeName", "Unknown Attribute FifoQueue.")
    assert create_error(ContentBasedDeduplication="false") == (
        "InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication.")
    assert create_error(DeduplicationScope="queue") == (
        "InvalidAttributeName", "You can specify the DeduplicationScope only when FifoQueue is set to true.")
    assert _error(sqs.create_queue, QueueName=f"s-{unique}.fifo")["Code"] == "InvalidParameterValue"
    url = sqs.create_queue(QueueName=f"s-{unique}")["QueueUrl"]
    for value in ("true", "false"):
        assert _error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": value})["Message"] == (
            "Unknown Attribute FifoQueue.")
    fifo = sqs.create_queue(QueueName=f"f-{unique}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"FifoQueue": "true"})
    error = _error(sqs.set_queue_attributes, QueueUrl=fifo, Attributes={"FifoQueue": "false"})
    assert (error["Code"], error["Message"]) == (
        "InvalidAttributeValue", "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
                                 "supported.")


def test_a_kms_key_turns_sqs_managed_encryption_off(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"k-{unique}")["QueueUrl"]
    attributes = lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]  # noqa: E731
    assert attributes()["SqsManagedSseEnabled"] == "true"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId",
                                                       "KmsDataKeyReusePeriodSeconds": "6000"})
    assert (attributes()["SqsManagedSseEnabled"], attributes()["KmsDataKeyReusePeriodSeconds"]) == ("false", "6000")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "", "KmsDataKeyReusePeriodSeconds": "300"})
    assert "KmsDataKeyReusePeriodSeconds" not in attributes() and "KmsMasterKeyId" not in attributes()


def test_fifo_message_rules(sqs: Any, unique: str, server: ServerProcess) -> None:
    fifo = sqs.create_queue(QueueName=f"f-{unique}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.send_message(QueueUrl=fifo, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=0)
    error = _error(sqs.send_message, QueueUrl=fifo, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="")
    assert error["Message"] == ("Value  for parameter MessageDeduplicationId is invalid. Reason: "
                                "MessageDeduplicationId can only include alphanumeric and punctuation characters. "
                                "1 to 128 in length.")
    # A purge forgets the deduplication ids: the same id is accepted again.
    sqs.purge_queue(QueueUrl=fifo)
    sqs.send_message(QueueUrl=fifo, MessageBody="again", MessageGroupId="g", MessageDeduplicationId="d")
    assert sqs.receive_message(QueueUrl=fifo)["Messages"][0]["Body"] == "again"
    batch = [{"Id": "1", "MessageBody": "m", "MessageGroupId": "g", "MessageDeduplicationId": "x"},
             {"Id": "2", "MessageBody": "m", "MessageDeduplicationId": "y"}]
    error = _error(sqs.send_message_batch, QueueUrl=fifo, Entries=batch)
    assert (error["Code"], error["Message"]) == ("InvalidParameterValue",
                                                 "The request must contain the parameter MessageGroupId.")


def test_an_empty_group_id_on_a_standard_queue_is_malformed(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"s-{unique}")["QueueUrl"]
    assert _error(sqs.send_message, QueueUrl=url, MessageBody="m", MessageGroupId="")["Message"] == (
        "Value  for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and "
        "punctuation characters. 1 to 128 in length.")


def test_batch_sizes_and_entry_failures(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"b-{unique}", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    result = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "ok", "MessageBody": "a" * 1024},
                                                           {"Id": "big", "MessageBody": "a" * 1025}])
    assert result["Failed"] == [{"Id": "big", "SenderFault": True, "Code": "InvalidParameterValue",
                                 "Message": "One or more parameters cannot be validated. Reason: Message must be "
                                            "shorter than 1024 bytes."}]
    assert "Failed" not in sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "ok", "MessageBody": "a"}])
    attributes = {"k": {"DataType": "String", "StringValue": "x"}}
    error = _error(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "1", "MessageBody": "a" * (1_048_576 - 8), "MessageAttributes": attributes},
        {"Id": "2", "MessageBody": "a"}])
    assert error["Message"] == "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes."


def test_message_attribute_names_and_selectors(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"a-{unique}", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes={"attr.1øßä": {"StringValue": "v",
                                                                                    "DataType": "String"}})
    error = _error(sqs.send_message, QueueUrl=url, MessageBody="m",
                   MessageAttributes={"ErrorDetails": {"StringValue": "", "DataType": "String"}})
    assert error["Message"] == "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'."
    assert _error(sqs.send_message, QueueUrl=url, MessageBody="m", MessageAttributes={
        "a": {"StringValue": f"bad-{chr(8)}", "DataType": "String"}})["Code"] == "InvalidParameterValue"
    sqs.purge_queue(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes={
        name: {"DataType": "String", "StringValue": "x"} for name in ("Help.Me", "Hello", "General")})
    assert set(sqs.receive_message(QueueUrl=url, MessageAttributeNames=["*"])["Messages"][0]["MessageAttributes"]) == {
        "Help.Me", "Hello", "General"}
    assert set(sqs.receive_message(QueueUrl=url, MessageAttributeNames=["Hel.*"])["Messages"][0][
        "MessageAttributes"]) == {"Help.Me", "Hello"}


def test_fifo_groups_take_turns_by_when_they_became_available(sqs_json: Any, unique: str,
                                                                server: ServerProcess) -> None:
    sqs = sqs_json
    url = sqs.create_queue(QueueName=f"g-{unique}.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30"})["QueueUrl"]
    for body, group in (("g1-m1", "1"), ("g1-m2", "1"), ("g2-m1", "2")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in first] == ["g1-m1", "g1-m2"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"], VisibilityTimeout=0)
    # Group 1 came back after group 2 had waited: group 2 goes first, then group 1 up to its hidden message.
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
    assert [m["Body"] for m in again] == ["g2-m1", "g1-m1"]


def test_a_dead_letter_keeps_its_receive_count(sqs_json: Any, unique: str) -> None:
    sqs = sqs_json
    dlq = sqs.create_queue(QueueName=f"dlq-{unique}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(QueueName=f"src-{unique}", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
    sqs.send_message(QueueUrl=source, MessageBody="m")
    for _ in range(2):
        sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)
    [dead] = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], WaitTimeSeconds=5)["Messages"]
    assert dead["Attributes"]["ApproximateReceiveCount"] == "2"


def test_move_task_handles_are_checked(sqs_json: Any, unique: str) -> None:
    error = _error(sqs_json.cancel_message_move_task, TaskHandle="foobared")
    assert (error["Code"], error["Message"]) == ("InvalidParameterValue", "Value for parameter TaskHandle is invalid.")
    handle = base64.b64encode(json.dumps({"taskId": "t", "sourceArn": f"arn:aws:sqs:us-east-1:000000000000:no-{unique}"})
                              .encode()).decode()
    error = _error(sqs_json.cancel_message_move_task, TaskHandle=handle)
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.")


def test_add_permission_writes_the_2008_policy_language(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"p-{unique}")["QueueUrl"]
    sqs.add_permission(QueueUrl=url, Label="l1", AWSAccountIds=["000000000000"], Actions=["ReceiveMessage"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Version"] == "2008-10-17"
    assert _error(sqs.remove_permission, QueueUrl=url, Label="l2")["Message"] == (
        "Value l2 for parameter Label is invalid. Reason: can't find label.")


def test_tag_queue_needs_a_tag(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"tags-{unique}")["QueueUrl"]
    error = _error(sqs.tag_queue, QueueUrl=url, Tags={})
    assert (error["Code"], error["Message"]) == ("MissingParameter", "The request must contain the parameter Tags.")


def test_a_prefix_wildcard_selects_every_attribute_name_starting_with_it(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"wild-{unique}")["QueueUrl"]
    text = {"DataType": "String", "StringValue": "v"}
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes={
        "Custom1": text, "Custom.Two": text, "Other": text})
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["Custom.*"])["Messages"][0]
    assert set(message["MessageAttributes"]) == {"Custom1", "Custom.Two"}

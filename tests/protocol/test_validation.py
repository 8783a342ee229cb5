"""Model-driven validation reports violations the way AWS's front end does."""

from __future__ import annotations

from eventyard.protocol.models import service_model
from eventyard.protocol.validation import coral_message, validate


def test_missing_and_out_of_range_members_are_reported_coral_style() -> None:
    shape = service_model("kinesis").operation_model("PutRecord").input_shape
    violations = validate(shape, {"StreamName": "a" * 200, "PartitionKey": ""})
    message = coral_message(violations)
    assert message.startswith("3 validation errors detected: ")
    assert "Value null at 'data' failed to satisfy constraint: Member must not be null" in message
    assert "at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128" in message
    assert ("Value '' at 'partitionKey' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1") in message


def test_patterns_and_enums_are_checked() -> None:
    shape = service_model("kinesis").operation_model("GetShardIterator").input_shape
    violations = validate(shape, {"StreamName": "bad name!", "ShardId": "s", "ShardIteratorType": "SIDEWAYS"})
    constraints = sorted(v.constraint.split(":")[0] for v in violations)
    assert constraints == ["Member must satisfy enum value set", "Member must satisfy regular expression pattern"]


def test_valid_input_has_no_violations() -> None:
    shape = service_model("sqs").operation_model("SendMessage").input_shape
    assert validate(shape, {"QueueUrl": "u", "MessageBody": "b"}) == []

"""Event source mapping refusals through boto3, in the words AWS records."""

from __future__ import annotations

from typing import Any

from tests.lambda_.conftest import error_of, queue_arn

CODE = "def handler(event, context):\n    return event\n"


def test_mappings_are_refused_in_aws_words(server: Any, lam: Any, make_function: Any, unique: str) -> None:
    name = make_function(CODE)
    assert error_of(lam.get_event_source_mapping, UUID="00000000-0000-0000-0000-000000000000") == {
        "Code": "ResourceNotFoundException", "Message": "The resource you requested does not exist."}
    assert error_of(lam.create_event_source_mapping, FunctionName=name)["Message"] == "Unrecognized event source."
    queue = "arn:aws:sqs:us-east-1:000000000000:somequeue"
    assert error_of(lam.create_event_source_mapping, FunctionName="nothing-here", EventSourceArn=queue,
                    DestinationConfig={"OnSuccess": {"Destination": queue}})["Message"] == (
        "Unsupported DestinationConfig parameter for given event source mapping type.")
    stream = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    assert error_of(lam.create_event_source_mapping, FunctionName=name, EventSourceArn=stream)["Message"] == (
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must "
        "not be null.")


def test_a_larger_sqs_batch_needs_a_batching_window_on_update_too(server: Any, lam: Any, make_function: Any,
                                                                   unique: str) -> None:
    url, arn = queue_arn(server, f"batching-{unique}")
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=make_function(CODE))
    assert mapping["BatchSize"] == 10
    message = ("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
    assert error_of(lam.update_event_source_mapping, UUID=mapping["UUID"], BatchSize=11)["Message"] == message
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_second_mapping_of_a_queue_and_function_is_a_conflict(server: Any, lam: Any, make_function: Any,
                                                                  unique: str) -> None:
    url, arn = queue_arn(server, f"twice-{unique}")
    first, other = make_function(CODE), make_function(CODE)
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=first)
    assert error_of(lam.create_event_source_mapping, EventSourceArn=arn, FunctionName=first) == {
        "Code": "ResourceConflictException",
        "Message": f'An event source mapping with SQS arn (" {arn} ") and function (" {first} ") already exists. '
                   f"Please update or delete the existing mapping with UUID {mapping['UUID']}"}
    second = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=other)  # another function may
    for created in (mapping, second):
        lam.delete_event_source_mapping(UUID=created["UUID"])

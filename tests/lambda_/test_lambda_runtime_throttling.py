"""A function with reserved concurrency 0 never runs: a synchronous invoke is throttled, and an
asynchronous event goes straight to the OnFailure destination as ZeroReservedConcurrency (recorded)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.lambda_.conftest import eventually

ECHO = "def handler(event, context):\n    return event\n"


def test_zero_reserved_concurrency_throttles_and_fails_async_events(server: Any, lam: Any, make_function: Any,
                                                                    unique: str) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=f"zero-{unique}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = make_function(ECHO)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as raised:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    request_id = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"a": 1}')[
        "ResponseMetadata"]["RequestId"]

    def received() -> Any:
        return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, AttributeNames=["All"]).get("Messages")
    message = eventually(received)[0]
    # the event came without a trace: Lambda started one, and the record carries it
    assert message["Attributes"]["AWSTraceHeader"].startswith("Root=1-")
    body = json.loads(message["Body"])
    assert body["requestContext"] == {"requestId": request_id, "functionArn": lam.get_function(
        FunctionName=name)["Configuration"]["FunctionArn"] + ":$LATEST", "condition": "ZeroReservedConcurrency",
        "approximateInvokeCount": 0}
    assert body["requestPayload"] == {"a": 1} and "responseContext" not in body and "responsePayload" not in body

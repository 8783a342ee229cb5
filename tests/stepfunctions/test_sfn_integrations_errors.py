"""Service errors as Step Functions names them: the SDK's exception class for an error the
service's model declares, else the SDK's base class for the service (v2 for aws-sdk integrations,
v1 for the optimized ones), and the service's own wording for invalid input."""

from __future__ import annotations

import re
from typing import Any

from eventyard.services.stepfunctions.task_errors import exception_class
from tests.stepfunctions.conftest import run_to_end


def _task(resource: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": parameters,
                                             "End": True}}}


def test_exception_classes_follow_the_model() -> None:
    assert exception_class("sqs", "QueueDoesNotExist", "Sqs", sdk=True) == "QueueDoesNotExistException"
    assert exception_class("sqs", "MissingParameter", "Sqs", sdk=True) == "SqsException"
    assert exception_class("sqs", "MissingParameter", "SQS", sdk=False) == "AmazonSQSException"
    assert exception_class("dynamodb", "ValidationException", "DynamoDB", sdk=False) == "AmazonDynamoDBException"
    assert exception_class("lambda", "ResourceNotFoundException", "Lambda", sdk=False) == "ResourceNotFoundException"


def test_an_optimized_send_message_without_a_body_fails_as_sqs_answers(
        server: Any, sfn: Any, make_machine: Any, unique: str) -> None:
    url = server.client("sqs").create_queue(QueueName=f"no-body-{unique}")["QueueUrl"]
    machine = make_machine(_task("arn:aws:states:::sqs:sendMessage", {"QueueUrl": url, "MessageBody": None}))
    done = run_to_end(sfn, machine)
    assert (done["status"], done["error"]) == ("FAILED", "SQS.AmazonSQSException")
    assert re.fullmatch(r"The request must contain the parameter MessageBody\. \(Service: AmazonSQS; Status Code: "
                        r"400; Error Code: MissingParameter; Request ID: [0-9a-f-]{36}; Proxy: null\)", done["cause"])


def test_aws_sdk_errors_name_the_sdk_v2_class(sfn: Any, make_machine: Any, unique: str) -> None:
    cases = [("sqs:getQueueUrl", {"QueueName": f"missing-{unique}"}, "Sqs.QueueDoesNotExistException"),
             ("iam:getUser", {"UserName": f"missing-{unique}"}, "Iam.NoSuchEntityException"),
             # EventBridge's model declares no ValidationException: the SDK's base class
             ("eventbridge:putRule", {"Name": "not a name"}, "EventBridge.EventBridgeException")]
    for action, parameters, error in cases:
        done = run_to_end(sfn, make_machine(_task(f"arn:aws:states:::aws-sdk:{action}", parameters)))
        assert (done["status"], done["error"]) == ("FAILED", error), action
        service = error.split(".")[0]
        assert re.search(rf"\(Service: {service}, Status Code: \d+, Request ID: [0-9a-f-]{{36}}\) "
                         r"\(SDK Attempt Count: 1\)$", done["cause"]), done["cause"]

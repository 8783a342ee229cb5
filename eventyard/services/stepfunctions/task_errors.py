"""A service's AWS error as a task's error, named as Step Functions names it: `<Service>.<Exception>`
where the exception is the SDK's class for the error. An error the service's model declares has a
class of its own (`Sqs.QueueDoesNotExistException`); any other falls to the SDK's base class for
the service (`Sqs.SqsException` in the aws-sdk integrations, which use the Java SDK v2;
`SQS.AmazonSQSException` in the optimized ones, which use v1). The cause is the SDK's message."""

from __future__ import annotations

import uuid
from functools import cache

from eventyard.asl.errors import StatesError
from eventyard.protocol.errors import AwsError
from eventyard.protocol.models import service_model

# How Step Functions prefixes an aws-sdk error: the SDK v2 client's name for the service
SDK_PREFIX = {"stepfunctions": "Sfn", "sqs": "Sqs", "sns": "Sns", "events": "EventBridge", "lambda": "Lambda",
              "kinesis": "Kinesis", "logs": "CloudWatchLogs", "cloudwatch": "CloudWatch", "iam": "Iam", "sts": "Sts",
              "dynamodb": "DynamoDb", "s3": "S3", "secretsmanager": "SecretsManager"}

# The service names of AWS's Java SDK v1, which its optimized integrations quote in their causes
V1_SERVICE = {"lambda": "AWSLambda", "stepfunctions": "AWSStepFunctions", "sqs": "AmazonSQS", "sns": "AmazonSNS",
              "events": "AmazonEventBridge", "dynamodb": "AmazonDynamoDBv2"}


def sdk_prefix(service: str) -> str:
    return SDK_PREFIX.get(service, service.capitalize())


@cache
def _modeled(service: str) -> dict[str, str]:
    """The error codes the service's model declares -> the SDK's exception class for each."""
    try:
        model = service_model(service)
    except Exception:  # noqa: BLE001 - a service without a model declares nothing
        return {}
    classes: dict[str, str] = {}
    for shape in model.error_shapes:
        name = shape.name if shape.name.endswith("Exception") else f"{shape.name}Exception"
        classes[shape.name] = name
        code = shape.metadata.get("error", {}).get("code")
        if code:
            classes.setdefault(code, name)
    return classes


def exception_class(service: str, code: str, label: str, sdk: bool) -> str:
    """The SDK's exception class for `code`: the modeled one, else the service's base class."""
    modeled = _modeled(service).get(code)
    if modeled is not None:
        return modeled
    if sdk:
        return f"{label}Exception"
    v1 = V1_SERVICE.get(service)
    return f"{v1.removesuffix('v2')}Exception" if v1 else f"{label}Exception"


def task_error(err: AwsError, label: str, service: str, sdk: bool) -> StatesError:
    """An AWS error as the task's error, with the SDK's cause: aws-sdk integrations speak SDK v2,
    optimized ones SDK v1."""
    request_id = uuid.uuid4()
    if sdk:
        cause = (f"{err.message} (Service: {label}, Status Code: {err.status}, Request ID: {request_id})"
                 " (SDK Attempt Count: 1)")
    else:
        cause = (f"{err.message} (Service: {V1_SERVICE.get(service, label)}; Status Code: {err.status}; Error Code: "
                 f"{err.code}; Request ID: {request_id}; Proxy: null)")
    return StatesError(f"{label}.{exception_class(service, err.code, label, sdk)}", cause)

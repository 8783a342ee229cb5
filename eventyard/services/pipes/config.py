"""A pipe's definition: which source, enrichment and target it names, and the parameters AWS accepts
for each, with AWS's defaults filled in.

Eventyard serves SQS queues and Kinesis streams as sources; Lambda functions, Step Functions state
machines and API destinations as enrichments; SQS, SNS, event buses, Lambda, Step Functions,
Kinesis, CloudWatch Logs and API destinations as targets. A pipe naming anything else is refused at
creation with a ValidationException that says so (AWS would run it; Eventyard cannot).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from eventyard.patterns import InvalidPattern
from eventyard.services.pipes.errors import validation
from eventyard.services.sources.records import compile_filters

SOURCE_KINDS = {"sqs": "SqsQueueParameters", "kinesis": "KinesisStreamParameters"}
OTHER_SOURCE_PARAMETERS = ("DynamoDBStreamParameters", "ActiveMQBrokerParameters", "RabbitMQBrokerParameters",
                           "ManagedStreamingKafkaParameters", "SelfManagedKafkaParameters")
# Each target kind, the TargetParameters member that belongs to it, and the largest source batch it
# takes (AWS: "you can't configure a pipe with a larger batch size than the target supports").
TARGET_KINDS: dict[str, tuple[str | None, int | None]] = {
    "sqs": ("SqsQueueParameters", 10),
    "sns": (None, 10),
    "event-bus": ("EventBridgeEventBusParameters", 10),
    "api-destination": ("HttpParameters", None),  # called once per event
    "lambda": ("LambdaFunctionParameters", None),
    "states": ("StepFunctionStateMachineParameters", None),
    "kinesis": ("KinesisStreamParameters", 500),
    "logs": ("CloudWatchLogsParameters", 10000),
}
OTHER_TARGET_PARAMETERS = ("EcsTaskParameters", "BatchJobParameters", "RedshiftDataParameters",
                           "SageMakerPipelineParameters", "TimestreamParameters")


@dataclass(frozen=True)
class Arn:
    service: str
    region: str
    account: str
    resource: str
    text: str


def parse_arn(text: str) -> Arn | None:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(parts[2], parts[3], parts[4], parts[5], text)


def source_kind(arn_text: str) -> str:
    arn = parse_arn(arn_text)
    if arn is not None and arn.service == "sqs" and arn.resource:
        return "sqs"
    if arn is not None and arn.service == "kinesis" and arn.resource.startswith("stream/"):
        return "kinesis"
    raise validation(f"Source {arn_text} is not supported by Eventyard: a pipe's source must be an Amazon SQS "
                     "queue or an Amazon Kinesis stream.", "Source")


def target_kind(arn_text: str) -> str:
    arn = parse_arn(arn_text)
    if arn is not None:
        if arn.service == "events" and arn.resource.startswith("event-bus/"):
            return "event-bus"
        if arn.service == "events" and arn.resource.startswith("api-destination/"):
            return "api-destination"
        if arn.service == "lambda" and arn.resource.startswith("function:"):
            return "lambda"
        if arn.service == "states" and arn.resource.startswith("stateMachine:"):
            return "states"
        if arn.service == "kinesis" and arn.resource.startswith("stream/"):
            return "kinesis"
        if arn.service == "logs" and arn.resource.startswith("log-group:"):
            return "logs"
        if arn.service in {"sqs", "sns"} and arn.resource:
            return arn.service
    raise validation(f"Target {arn_text} is not supported by Eventyard: a pipe's target must be an SQS queue, an SNS "
                     "topic, an event bus, a Lambda function, a Step Functions state machine, a Kinesis stream, a "
                     "CloudWatch Logs log group or an API destination.", "Target")


def enrichment_kind(arn_text: str) -> str:
    kind = target_kind(arn_text) if parse_arn(arn_text) else ""
    if kind not in {"lambda", "states", "api-destination"}:
        raise validation(f"Enrichment {arn_text} is not supported by Eventyard: an enrichment must be a Lambda "
                         "function, a Step Functions state machine or an API destination.", "Enrichment")
    return kind


def _check_filters(source_parameters: dict[str, Any]) -> None:
    criteria = source_parameters.get("FilterCriteria")
    if not criteria:
        return
    try:
        compile_filters(criteria)
    except InvalidPattern as error:
        raise validation(f"Invalid filter pattern: {error.full_message}", "SourceParameters.FilterCriteria") from None


def source_parameters(kind: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """Check a source's parameters and fill AWS's defaults."""
    parameters = copy.deepcopy(given or {})
    for other in OTHER_SOURCE_PARAMETERS + tuple(v for k, v in SOURCE_KINDS.items() if k != kind):
        if parameters.get(other):
            raise validation(f"{other} are not valid for a source of type {kind}.", f"SourceParameters.{other}")
    _check_filters(parameters)
    own: dict[str, Any] = parameters.setdefault(SOURCE_KINDS[kind], {})
    if kind == "kinesis":
        if not own.get("StartingPosition"):
            raise validation("StartingPosition is required for a Kinesis stream source.",
                             "SourceParameters.KinesisStreamParameters.StartingPosition")
        own.setdefault("BatchSize", 100)
        own.setdefault("MaximumBatchingWindowInSeconds", 0)
        own.setdefault("MaximumRecordAgeInSeconds", -1)
        own.setdefault("MaximumRetryAttempts", -1)
        own.setdefault("ParallelizationFactor", 1)
        age = own["MaximumRecordAgeInSeconds"]
        if age != -1 and age < 60:
            raise validation("MaximumRecordAgeInSeconds must be -1 (infinite) or between 60 and 604800.",
                             "SourceParameters.KinesisStreamParameters.MaximumRecordAgeInSeconds")
        dead_letter = (own.get("DeadLetterConfig") or {}).get("Arn")
        if dead_letter:
            arn = parse_arn(dead_letter)
            if arn is None or arn.service not in {"sqs", "sns"}:
                raise validation("DeadLetterConfig must be an Amazon SQS queue or an Amazon SNS topic.",
                                 "SourceParameters.KinesisStreamParameters.DeadLetterConfig.Arn")
        if own.get("StartingPosition") == "AT_TIMESTAMP" and own.get("StartingPositionTimestamp") is None:
            raise validation("StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP.",
                             "SourceParameters.KinesisStreamParameters.StartingPositionTimestamp")
    else:
        own.setdefault("BatchSize", 10)
        own.setdefault("MaximumBatchingWindowInSeconds", 0)
        if own["BatchSize"] > 10 and own["MaximumBatchingWindowInSeconds"] < 1:
            raise validation("MaximumBatchingWindowInSeconds must be at least 1 when BatchSize is greater than 10.",
                             "SourceParameters.SqsQueueParameters.MaximumBatchingWindowInSeconds")
    return parameters


def batch_size(kind: str, parameters: dict[str, Any]) -> int:
    return int(parameters[SOURCE_KINDS[kind]]["BatchSize"])


def target_parameters(kind: str, given: dict[str, Any] | None, source_batch: int) -> dict[str, Any]:
    parameters = copy.deepcopy(given or {})
    own_key, largest = TARGET_KINDS[kind]
    for name in OTHER_TARGET_PARAMETERS + tuple(k for k, _ in TARGET_KINDS.values() if k and k != own_key):
        if parameters.get(name):
            raise validation(f"{name} are not valid for a target of type {kind}.", f"TargetParameters.{name}")
    if kind == "kinesis" and "PartitionKey" not in (parameters.get("KinesisStreamParameters") or {}):
        raise validation("PartitionKey is required for a Kinesis stream target.",
                         "TargetParameters.KinesisStreamParameters.PartitionKey")
    if largest is not None and source_batch > largest:
        raise validation(f"The batch size {source_batch} of the source is larger than the target supports "
                         f"({largest}).", "SourceParameters")
    return parameters


def enrichment_parameters(kind: str, given: dict[str, Any] | None) -> dict[str, Any]:
    parameters = copy.deepcopy(given or {})
    if parameters.get("HttpParameters") and kind != "api-destination":
        raise validation("HttpParameters are only valid for an API destination enrichment.",
                         "EnrichmentParameters.HttpParameters")
    return parameters


def log_configuration(given: dict[str, Any] | None) -> dict[str, Any] | None:
    if not given:
        return None
    for other in ("S3LogDestination", "FirehoseLogDestination"):
        if given.get(other):
            raise validation(f"{other} is not supported by Eventyard: pipes log to CloudWatch Logs.",
                             f"LogConfiguration.{other}")
    destination = (given.get("CloudwatchLogsLogDestination") or {}).get("LogGroupArn")
    if destination is not None:
        arn = parse_arn(destination)
        if arn is None or arn.service != "logs" or not arn.resource.startswith("log-group:"):
            raise validation(f"LogGroupArn {destination} is not a CloudWatch Logs log group ARN.",
                             "LogConfiguration.CloudwatchLogsLogDestination.LogGroupArn")
    return copy.deepcopy(given)

"""aws-lambda-powertools handlers run unchanged in Eventyard's Lambda: its EventBridge and Kinesis data
classes read the events those services deliver, its batch processor reports partial Kinesis failures,
its Logger's structured lines land in CloudWatch Logs where a JSON filter finds them, and a Step
Functions Task gets what the handler returns."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.conftest import ServerProcess
from tests.lambda_.conftest import ROLE, eventually, make_zip
from tests.lambda_.test_kinesis_source import make_queue, make_stream

EVENTBRIDGE_HANDLER = """
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

logger = Logger(service="orders")

@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context):
    logger.info("order received", extra={"order": event.detail["order"], "source": event.source,
                                         "detail_type": event.detail_type})
    return {"order": event.detail["order"]}
"""

KINESIS_HANDLER = """
import json, os, boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
sqs = boto3.client("sqs")

def record_handler(record: KinesisStreamRecord):
    item = record.kinesis.data_as_json()
    sqs.send_message(QueueUrl=os.environ["SEEN"], MessageBody=json.dumps(item))

def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
"""

TASK_HANDLER = """
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="checkout")

@logger.inject_lambda_context(log_event=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return {"total": sum(item["price"] for item in event["items"]), "request": context.aws_request_id != ""}
"""


def create(server: ServerProcess, name: str, code: str, **extra: Any) -> str:
    return str(server.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=30,
        Code={"ZipFile": make_zip({"app.py": code})}, **extra)["FunctionArn"])


def test_an_eventbridge_handler_logs_structured_lines_into_cloudwatch_logs(server: ServerProcess, unique: str) -> None:
    function = create(server, f"pt-eb-{unique}", EVENTBRIDGE_HANDLER)
    events = server.client("events")
    events.put_rule(Name=f"pt-{unique}", EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(Rule=f"pt-{unique}", Targets=[{"Id": "fn", "Arn": function}])
    events.put_events(Entries=[{"Source": "shop.orders", "DetailType": "OrderPlaced",
                                "Detail": json.dumps({"order": f"o-{unique}"})}])
    logs = server.client("logs")

    def logged() -> list[dict[str, Any]]:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/pt-eb-{unique}",
                                           filterPattern='{ $.message = "order received" }')["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [json.loads(e["message"]) for e in found]

    lines = eventually(logged, 60)
    assert lines, "no structured log line"
    line = lines[0]
    assert (line["order"], line["source"], line["detail_type"], line["service"]) == (
        f"o-{unique}", "shop.orders", "OrderPlaced", "orders")
    assert line["function_name"] == f"pt-eb-{unique}" and line["level"] == "INFO"


def test_a_kinesis_batch_handler_reads_records_through_the_data_class(server: ServerProcess, unique: str) -> None:
    seen_url, _ = make_queue(server, f"pt-k-seen-{unique}")
    stream = make_stream(server, f"pt-k-{unique}")
    create(server, f"pt-k-{unique}", KINESIS_HANDLER, Environment={"Variables": {"SEEN": seen_url}})
    server.client("lambda").create_event_source_mapping(
        FunctionName=f"pt-k-{unique}", EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"])
    kinesis = server.client("kinesis")
    kinesis.put_records(StreamName=f"pt-k-{unique}", Records=[
        {"Data": json.dumps({"n": i}).encode(), "PartitionKey": "k"} for i in range(5)])
    sqs, seen = server.client("sqs"), []
    deadline = time.monotonic() + 60
    while len(seen) < 5 and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=seen_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []):
            seen.append(json.loads(message["Body"])["n"])
            sqs.delete_message(QueueUrl=seen_url, ReceiptHandle=message["ReceiptHandle"])
    assert seen == [0, 1, 2, 3, 4]


def test_a_step_functions_task_gets_what_the_handler_returns(server: ServerProcess, unique: str) -> None:
    function = create(server, f"pt-task-{unique}", TASK_HANDLER)
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name=f"pt-{unique}", roleArn="arn:aws:iam::000000000000:role/r",
                                       definition=json.dumps({"StartAt": "Total", "States": {"Total": {
                                           "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                           "Parameters": {"FunctionName": function, "Payload.$": "$"},
                                           "OutputPath": "$.Payload", "End": True}}}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"items": [{"price": 2}, {"price": 3}]}))
    described = eventually(lambda: (d := sfn.describe_execution(executionArn=execution["executionArn"]))[
        "status"] != "RUNNING" and d, 60)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"total": 5, "request": True}

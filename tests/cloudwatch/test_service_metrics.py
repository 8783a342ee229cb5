"""Every service publishes its AWS metrics, and a function's EMF log lines (what aws-lambda-powertools
`Metrics` writes) become metrics: all read back through GetMetricStatistics and ListMetrics."""

from __future__ import annotations

import json
from typing import Any

from tests.cloudwatch.conftest import server_now, wait_for
from tests.conftest import ServerProcess
from tests.lambda_.conftest import ROLE, make_zip

POWERTOOLS_HANDLER = '''
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics(namespace="Shop", service="checkout")


@metrics.log_metrics
def handler(event, context):
    if event.get("fail"):
        raise ValueError("no stock")
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=event["orders"])
    metrics.add_metric(name="BasketSize", unit=MetricUnit.Count, value=event["orders"] * 10)
    return {"ok": True}
'''


def _sum(cw: Any, server: ServerProcess, namespace: str, name: str, dimensions: dict[str, str],
         statistic: str = "Sum") -> float | None:
    now = server_now(server)
    points = cw.get_metric_statistics(
        Namespace=namespace, MetricName=name, Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - 1800, EndTime=now + 60, Period=60, Statistics=[statistic])["Datapoints"]
    if not points:
        return None
    values = [p[statistic] for p in points]
    return max(values) if statistic == "Maximum" else sum(values)


def test_a_powertools_metrics_handler_publishes_through_emf(clocked: ServerProcess) -> None:
    lam, cw = clocked.client("lambda"), clocked.client("cloudwatch")
    lam.create_function(FunctionName="checkout", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": POWERTOOLS_HANDLER})}, Timeout=30)
    lam.get_waiter("function_active_v2").wait(FunctionName="checkout", WaiterConfig={"Delay": 0.2})
    for orders in (2, 3):
        answer = lam.invoke(FunctionName="checkout", Payload=json.dumps({"orders": orders}).encode())
        assert json.loads(answer["Payload"].read()) == {"ok": True}
    failed = lam.invoke(FunctionName="checkout", Payload=b'{"fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    clocked.advance_clock(60)  # the period closes: the recorder writes it
    wait_for(lambda: _sum(cw, clocked, "Shop", "OrdersPlaced", {"service": "checkout"}) == 5.0,
             message="the EMF metric")
    assert _sum(cw, clocked, "Shop", "BasketSize", {"service": "checkout"}, "Maximum") == 30.0
    assert {"MetricName": "OrdersPlaced", "Namespace": "Shop", "Dimensions": [{"Name": "service", "Value": "checkout"}]} \
        in cw.list_metrics(Namespace="Shop")["Metrics"]
    function = {"FunctionName": "checkout"}
    wait_for(lambda: _sum(cw, clocked, "AWS/Lambda", "Invocations", function) == 3.0, message="Invocations")
    assert _sum(cw, clocked, "AWS/Lambda", "Errors", function) == 1.0
    assert _sum(cw, clocked, "AWS/Lambda", "Duration", function, "SampleCount") == 3.0
    assert _sum(cw, clocked, "AWS/Lambda", "Invocations", {}) == 3.0  # account-wide, without dimensions
    assert (_sum(cw, clocked, "AWS/Logs", "IncomingLogEvents", {"LogGroupName": "/aws/lambda/checkout"}) or 0) >= 3


def test_sns_events_kinesis_and_step_functions_publish_their_metrics(clocked: ServerProcess) -> None:
    sqs, sns, events = clocked.client("sqs"), clocked.client("sns"), clocked.client("events")
    kinesis, sfn, cw = clocked.client("kinesis"), clocked.client("stepfunctions"), clocked.client("cloudwatch")
    inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    sns.publish(TopicArn=topic, Message="x" * 42)
    events.put_rule(Name="to-inbox", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="to-inbox", Targets=[{"Id": "inbox", "Arn": inbox_arn}])
    events.put_events(Entries=[{"Source": "shop", "DetailType": "order", "Detail": "{}"} for _ in range(2)])
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="clicks", WaiterConfig={"Delay": 0.2})
    kinesis.put_records(StreamName="clicks", Records=[{"Data": b"abcd", "PartitionKey": str(i)} for i in range(3)])
    iterator = kinesis.get_shard_iterator(StreamName="clicks", ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(kinesis.get_records(ShardIterator=iterator)["Records"]) == 3
    machine = sfn.create_state_machine(name="noop", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED", message="the execution")
    wait_for(lambda: len(sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                             WaitTimeSeconds=1).get("Messages", [])) > 0, message="deliveries")
    clocked.advance_clock(60)
    expected = [
        ("AWS/SNS", "NumberOfMessagesPublished", {"TopicName": "orders"}, "Sum", 1.0),
        ("AWS/SNS", "PublishSize", {"TopicName": "orders"}, "Maximum", 42.0),
        ("AWS/Events", "MatchedEvents", {"RuleName": "to-inbox"}, "Sum", 2.0),
        ("AWS/Events", "TriggeredRules", {"EventBusName": "default", "RuleName": "to-inbox"}, "Sum", 2.0),
        ("AWS/Kinesis", "IncomingRecords", {"StreamName": "clicks"}, "Sum", 3.0),
        ("AWS/Kinesis", "IncomingBytes", {"StreamName": "clicks"}, "Sum", 12.0),
        ("AWS/Kinesis", "GetRecords.Records", {"StreamName": "clicks"}, "Sum", 3.0),
        ("AWS/States", "ExecutionsStarted", {"StateMachineArn": machine}, "Sum", 1.0),
        ("AWS/States", "ExecutionsSucceeded", {"StateMachineArn": machine}, "Sum", 1.0),
    ]
    for namespace, name, dims, statistic, value in expected:
        wait_for(lambda: _sum(cw, clocked, namespace, name, dims, statistic) == value,
                 message=f"{namespace} {name} = {value}")
    wait_for(lambda: _sum(cw, clocked, "AWS/SNS", "NumberOfNotificationsDelivered", {"TopicName": "orders"}) == 1.0,
             message="SNS deliveries")
    wait_for(lambda: _sum(cw, clocked, "AWS/Events", "Invocations", {"RuleName": "to-inbox"}) == 2.0,
             message="EventBridge invocations")
    assert (_sum(cw, clocked, "AWS/States", "ExecutionTime", {"StateMachineArn": machine}, "SampleCount")) == 1.0

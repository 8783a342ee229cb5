"""The seed's DLQ scenario end to end: a poison message lands in a dead-letter queue, an alarm on the
DLQ's ApproximateNumberOfMessagesVisible goes to ALARM within one period and notifies an SNS topic
whose subscribers (a queue and an HTTP endpoint) get AWS's alarm notification JSON; redriving the DLQ
brings the alarm back to OK. Run with boto3 and with the AWS CLI v1."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudwatch.conftest import server_now, wait_for
from tests.conftest import ServerProcess
from tests.sns.test_http import Subscriber, fetch
from tests.tools.install_awscli import install_awscli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def endpoint() -> Iterator[Subscriber]:
    running = Subscriber()
    yield running
    running.close()


@pytest.fixture(scope="session")
def aws_cli() -> Path:
    """The AWS CLI v1 from PyPI, in a virtualenv of its own (installed on first use)."""
    return install_awscli(ROOT / ".venv" / "awscli-v1")


class World:
    """The queues, topic and subscriptions of the scenario."""

    def __init__(self, server: ServerProcess, endpoint: Subscriber) -> None:
        self.server = server
        self.sqs, self.sns = server.client("sqs"), server.client("sns")
        self.dlq = self.sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        self.dlq_arn = self._arn(self.dlq)
        self.source = self.sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": self.dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
        self.topic = self.sns.create_topic(Name="ops-alerts")["TopicArn"]
        self.inbox = self.sqs.create_queue(QueueName="ops-inbox")["QueueUrl"]
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=self._arn(self.inbox))
        self.endpoint = endpoint
        self.sns.subscribe(TopicArn=self.topic, Protocol="http", Endpoint=endpoint.url)
        confirmation = wait_for(lambda: endpoint.of_type("SubscriptionConfirmation"), message="the confirmation")
        fetch(confirmation[0][1]["SubscribeURL"])

    def _arn(self, url: str) -> str:
        return str(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def visible(self, url: str) -> int:
        return int(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"])

    def poison(self) -> None:
        """A message no consumer can process: received once, not deleted, then moved to the DLQ."""
        self.sqs.send_message(QueueUrl=self.source, MessageBody='{"order": "malformed"}')
        wait_for(lambda: self.sqs.receive_message(QueueUrl=self.source, VisibilityTimeout=0).get("Messages"),
                 message="the first delivery")
        wait_for(lambda: self.sqs.receive_message(QueueUrl=self.source).get("Messages") is None and
                 self.visible(self.dlq) == 1, message="the message in the DLQ")

    def notifications(self, state: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The notification for `state` as the queue subscriber and the HTTP subscriber got it."""

        def from_queue() -> dict[str, Any] | None:
            for message in self.sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10,
                                                    WaitTimeSeconds=1).get("Messages", []):
                self.sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=message["ReceiptHandle"])
                envelope = json.loads(message["Body"])
                if json.loads(envelope["Message"])["NewStateValue"] == state:
                    return dict(envelope)
            return None

        def from_endpoint() -> dict[str, Any] | None:
            for _, envelope in self.endpoint.of_type("Notification"):
                if json.loads(envelope["Message"])["NewStateValue"] == state:
                    return dict(envelope)
            return None

        return (wait_for(from_queue, message=f"the {state} notification in the queue"),
                wait_for(from_endpoint, message=f"the {state} notification at the endpoint"))


def _check_notification(envelope: dict[str, Any], world: World, state: str, old: str | None) -> dict[str, Any]:
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == world.topic
    assert envelope["Subject"] == f'{state}: "dlq-not-empty" in US East (N. Virginia)'
    message: dict[str, Any] = json.loads(envelope["Message"])
    assert list(message) == ["AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp",
                             "NewStateValue", "NewStateReason", "StateChangeTime", "Region", "AlarmArn",
                             "OldStateValue", "OKActions", "AlarmActions", "InsufficientDataActions", "Trigger"]
    assert (message["AlarmName"], message["NewStateValue"]) == ("dlq-not-empty", state)
    if old is not None:
        assert message["OldStateValue"] == old
    assert message["AlarmDescription"] == "Messages in the orders DLQ"
    assert message["AWSAccountId"] == "000000000000" and message["Region"] == "US East (N. Virginia)"
    assert message["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:dlq-not-empty"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", message["StateChangeTime"])
    assert message["AlarmActions"] == [world.topic] and message["OKActions"] == [world.topic]
    assert message["Trigger"] == {
        "MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS", "StatisticType": "Statistic",
        "Statistic": "MAXIMUM", "Unit": None, "Dimensions": [{"value": "orders-dlq", "name": "QueueName"}],
        "Period": 60, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0.0,
        "TreatMissingData": "- TreatMissingData:                    missing", "EvaluateLowSampleCountPercentile": ""}
    return message


def _run_scenario(world: World, alarm_state: Any) -> None:
    world.poison()
    world.server.advance_clock(60)  # one period later
    wait_for(lambda: alarm_state() == "ALARM", message="the alarm in ALARM")
    queued, posted = world.notifications("ALARM")
    message = _check_notification(queued, world, "ALARM", None)
    # OK when a minute ended between the alarm's creation and the poisoning (the DLQ was empty then)
    assert message["OldStateValue"] in {"INSUFFICIENT_DATA", "OK"}
    assert re.fullmatch(r"Threshold Crossed: 1 datapoint \[1\.0 \(\d\d/\d\d/\d\d \d\d:\d\d:00\)\] was greater than the "
                        r"threshold \(0\.0\)\.", message["NewStateReason"])
    assert json.loads(posted["Message"]) == message
    world.sqs.start_message_move_task(SourceArn=world.dlq_arn)
    wait_for(lambda: world.visible(world.dlq) == 0 and world.visible(world.source) == 1, message="the redrive")
    world.server.advance_clock(60)
    wait_for(lambda: alarm_state() == "OK", message="the alarm back to OK")
    queued, posted = world.notifications("OK")
    message = _check_notification(queued, world, "OK", "ALARM")
    assert re.fullmatch(r"Threshold Crossed: 1 datapoint \[0\.0 \(.+\)\] was not greater than the threshold \(0\.0\)\.",
                        message["NewStateReason"])
    assert json.loads(posted["Message"]) == message


def test_a_poisoned_dlq_alarms_and_notifies_then_recovers_after_redrive(clocked: ServerProcess,
                                                                         endpoint: Subscriber) -> None:
    world = World(clocked, endpoint)
    cw = clocked.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="dlq-not-empty", AlarmDescription="Messages in the orders DLQ", Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible", Dimensions=[{"Name": "QueueName", "Value": "orders-dlq"}],
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=0.0, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[world.topic], OKActions=[world.topic])
    _run_scenario(world, lambda: cw.describe_alarms(AlarmNames=["dlq-not-empty"])["MetricAlarms"][0]["StateValue"])
    actions = cw.describe_alarm_history(AlarmName="dlq-not-empty", HistoryItemType="Action")["AlarmHistoryItems"]
    assert {a["HistorySummary"] for a in actions} == {f"Successfully executed action {world.topic}"}


def test_the_aws_cli_v1_sets_up_and_reads_the_dlq_alarm(clocked: ServerProcess, endpoint: Subscriber,
                                                        aws_cli: Path) -> None:
    world = World(clocked, endpoint)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}

    def aws(*args: str) -> Any:
        run = subprocess.run([str(aws_cli), "--endpoint-url", clocked.url, "--output", "json", *args], env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout) if run.stdout.strip() else None

    aws("cloudwatch", "put-metric-alarm", "--alarm-name", "dlq-not-empty",
        "--alarm-description", "Messages in the orders DLQ", "--namespace", "AWS/SQS",
        "--metric-name", "ApproximateNumberOfMessagesVisible", "--dimensions", "Name=QueueName,Value=orders-dlq",
        "--statistic", "Maximum", "--period", "60", "--evaluation-periods", "1", "--threshold", "0",
        "--comparison-operator", "GreaterThanThreshold", "--alarm-actions", world.topic, "--ok-actions", world.topic)
    _run_scenario(world, lambda: aws("cloudwatch", "describe-alarms", "--alarm-names", "dlq-not-empty")[
        "MetricAlarms"][0]["StateValue"])
    history = aws("cloudwatch", "describe-alarm-history", "--alarm-name", "dlq-not-empty",
                  "--history-item-type", "StateUpdate")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from ALARM to OK"
    now = server_now(clocked)
    points = aws("cloudwatch", "get-metric-statistics", "--namespace", "AWS/SQS", "--metric-name",
                 "ApproximateNumberOfMessagesVisible", "--dimensions", "Name=QueueName,Value=orders-dlq",
                 "--start-time", str(int(now - 3600)), "--end-time", str(int(now + 60)), "--period", "3600",
                 "--statistics", "Maximum")["Datapoints"]
    assert max(p["Maximum"] for p in points) == 1.0

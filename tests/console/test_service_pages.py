"""Console pages of SNS, EventBridge, Scheduler, Step Functions, Lambda-free Kinesis and CloudWatch,
against resources created with boto3 on a live server. Named service reads (SNS's delivery
backlog, EventBridge's next rule firings) are checked through the pages that show them."""

from __future__ import annotations

import html
import http.server
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import ServerProcess, free_port
from tests.console.helpers import MOUNT, get, page, post, wait_for


def text(body: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_a_topic_page_shows_filter_policies_captured_messages_and_failing_deliveries(
        server: ServerProcess, unique: str) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name=f"orders-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"{unique}@example.com", ReturnSubscriptionArn=True)
    sms = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100",
                        Attributes={"FilterPolicy": json.dumps({"kind": [f"alert-{unique}"]})})
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://127.0.0.1:{free_port()}/refused",
                  ReturnSubscriptionArn=True)
    sns.publish(TopicArn=topic, Message=f"hello {unique}", Subject="Greetings",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": f"alert-{unique}"}})
    assert sms["SubscriptionArn"].startswith("arn:aws:sns")
    body = wait_for(lambda: (lambda b: b if f"hello {unique}" in b else None)(page(server, "sns/topic", arn=topic)),
                    what="the captured SMS to appear")
    shown = text(body)
    assert f"alert-{unique}" in shown  # the SMS subscription's filter policy
    assert "pending confirmation" in shown  # email and http wait for their confirmation
    assert "+15555550100" in shown and "Greetings" in shown
    captured = text(page(server, "sns/captured", protocol="sms", q=unique))
    assert f"hello {unique}" in captured


class _FailingEndpoint(http.server.BaseHTTPRequestHandler):
    """An HTTP subscriber that confirms its subscription, then answers every notification 500."""

    confirmations: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        document = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if document.get("Type") == "SubscriptionConfirmation":
            type(self).confirmations.append(document)
            self.send_response(200)
        else:
            self.send_response(500)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_failing_http_delivery_shows_its_attempts(server: ServerProcess, unique: str) -> None:
    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FailingEndpoint)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    try:
        sns = server.client("sns")
        topic = sns.create_topic(Name=f"failing-{unique}")["TopicArn"]
        sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
            {"http": {"defaultHealthyRetryPolicy": {"numRetries": 50, "numNoDelayRetries": 0, "minDelayTarget": 1,
                                                    "maxDelayTarget": 1, "numMinDelayRetries": 50}}}))
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://127.0.0.1:{endpoint.server_port}/hook")
        confirmation = wait_for(lambda: [c for c in _FailingEndpoint.confirmations if c["TopicArn"] == topic],
                                what="the subscription confirmation")[0]
        sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
        sns.publish(TopicArn=topic, Message="undeliverable")
        body = wait_for(lambda: (lambda b: b if "failed, retrying" in b else None)(page(server, "sns/topic", arn=topic)),
                        what="the failed attempt to show")
        assert "Deliveries in progress" in body and "/hook" in body
    finally:
        endpoint.shutdown()
        endpoint.server_close()


def test_the_pattern_tester_explains_each_rule_that_does_not_match(server: ServerProcess, unique: str) -> None:
    events = server.client("events")
    bus = f"bus-{unique}"
    events.create_event_bus(Name=bus)
    events.put_rule(Name="paid", EventBusName=bus, EventPattern=json.dumps({"detail": {"status": ["paid"]}}))
    events.put_rule(Name="big", EventBusName=bus,
                    EventPattern=json.dumps({"detail": {"total": [{"numeric": [">", 500]}]}}))
    events.put_rule(Name="any-order", EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}))
    status, body, _ = post(server, "events/test", {"bus": bus, "region": "us-east-1", "event": json.dumps(
        {"source": "shop", "detail-type": "Order", "detail": {"status": "cancelled", "total": 120}})})
    assert status == 200
    rows = {m.group(1): m.group(2) for m in re.finditer(r'data-rule="([^"]+)" data-matches="(\w+)"', body)}
    assert rows == {"any-order": "true", "paid": "false", "big": "false"}
    shown = text(body)
    assert 'detail.status is "cancelled"; the pattern wants "paid"' in shown
    assert "detail.total is 120; the pattern wants a number > 500" in shown
    status, body, _ = post(server, "events/test", {"bus": bus, "event": "{not json"})
    assert status == 200 and "not JSON" in text(body)


def test_rules_and_schedules_show_their_next_firing(fresh_server: ServerProcess, unique: str) -> None:
    events, scheduler = fresh_server.client("events"), fresh_server.client("scheduler")
    events.put_rule(Name=f"tick-{unique}", ScheduleExpression="rate(5 minutes)")
    scheduler.create_schedule(Name=f"daily-{unique}", ScheduleExpression="cron(30 6 * * ? *)",
                              FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": "arn:aws:sqs:us-east-1:000000000000:x",
                                      "RoleArn": "arn:aws:iam::000000000000:role/r"})
    arn = f"arn:aws:events:us-east-1:000000000000:rule/tick-{unique}"
    first = re.search(r"next firing (\S+ \S+) UTC", text(page(fresh_server, "events/rule", arn=arn)))
    assert first is not None
    fresh_server.advance_clock(301)  # the rule fires; its next firing moves 5 minutes on
    later = wait_for(lambda: (lambda m: m if m and m.group(1) != first.group(1) else None)(
        re.search(r"next firing (\S+ \S+) UTC", text(page(fresh_server, "events/rule", arn=arn)))),
        what="the next firing to move")
    assert later.group(1) > first.group(1)
    schedules = text(page(fresh_server, "events/schedules"))
    assert len(re.findall(r"06:30:00 UTC", schedules)) == 3


def _saga(server: ServerProcess, unique: str) -> str:
    sqs, sfn = server.client("sqs"), server.client("stepfunctions")
    url = sqs.create_queue(QueueName=f"rooms-{unique}")["QueueUrl"]
    definition = {"StartAt": "Reserve", "States": {
        "Reserve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": url, "MessageBody": "reserve"}, "ResultPath": "$.r", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                   "Parameters": {"QueueUrl": url + "-missing", "MessageBody": "charge"},
                   "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Release"}],
                   "Next": "Booked"},
        "Booked": {"Type": "Succeed"},
        "Release": {"Type": "Pass", "Next": "BookingFailed"},
        "BookingFailed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "card declined"}}}
    machine = sfn.create_state_machine(name=f"saga-{unique}", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::000000000000:role/r")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input='{"trip": 1}')["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", what="the saga to end")
    return execution


def test_an_execution_page_draws_each_states_status_on_the_graph(server: ServerProcess, unique: str) -> None:
    execution = _saga(server, unique)
    body = page(server, "sfn/execution", arn=execution)
    statuses = dict(re.findall(r'data-state="([^"]+)" data-node="[^"]+" data-status="([^"]+)"', body))
    assert statuses == {"Start": "not-run", "End": "not-run", "Reserve": "succeeded", "Charge": "caught",
                        "Booked": "not-run", "Release": "succeeded", "BookingFailed": "failed"}
    assert re.search(r'class="edge catch taken"', body)  # the compensation path was taken
    assert "PaymentFailed" in body and "TaskFailed" in body  # the error and the history table
    machine = execution.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
    assert 'class="state choice' not in page(server, "sfn/machine", arn=machine)


def test_a_failed_execution_can_be_redriven_and_a_running_one_stopped(server: ServerProcess, unique: str) -> None:
    sfn = server.client("stepfunctions")
    execution = _saga(server, unique)
    status, _, headers = post(server, "sfn/redrive", {"arn": execution})
    assert status == 303  # RedriveExecution answers; a Fail state ending is not redrivable in AWS
    assert "notice=Execution+redriven" in headers["location"] or "error=" in headers["location"]
    waiting = sfn.create_state_machine(name=f"wait-{unique}", roleArn="arn:aws:iam::000000000000:role/r", definition=json.dumps(
        {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}}))["stateMachineArn"]
    running = sfn.start_execution(stateMachineArn=waiting)["executionArn"]
    assert 'id="stop"' in page(server, "sfn/execution", arn=running)
    status, _, headers = post(server, "sfn/stop", {"arn": running})
    assert status == 303 and "Execution+stopped" in headers["location"]
    assert sfn.describe_execution(executionArn=running)["status"] == "ABORTED"


def test_a_stream_page_shows_shard_hash_ranges_and_lineage(server: ServerProcess, unique: str) -> None:
    kinesis = server.client("kinesis")
    name = f"clicks-{unique}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    wait_for(lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]
             == "ACTIVE", what="the stream")
    kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 127))
    wait_for(lambda: len(kinesis.list_shards(StreamName=name)["Shards"]) == 3, what="the split")
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="reader")
    body = text(page(server, "kinesis/stream", arn=arn))
    assert body.count("shardId-000000000000") >= 3  # itself, and the parent of both children
    assert "closed" in body and "50.0%" in body and "reader" in body


def test_cloudwatch_pages_degrade_or_show_alarms(server: ServerProcess, unique: str) -> None:
    status, body, _ = get(server, f"{MOUNT}/cloudwatch")
    assert status == 200
    if "not served by this server" in body:
        return  # CloudWatch is not part of this build: the page says so instead of failing
    cloudwatch = server.client("cloudwatch")
    cloudwatch.put_metric_data(Namespace=f"Test/{unique}", MetricData=[{"MetricName": "Depth", "Value": 5.0}])
    cloudwatch.put_metric_alarm(AlarmName=f"deep-{unique}", Namespace=f"Test/{unique}", MetricName="Depth",
                                Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanThreshold")
    arn = cloudwatch.describe_alarms(AlarmNames=[f"deep-{unique}"])["MetricAlarms"][0]["AlarmArn"]
    assert f"deep-{unique}" in page(server, "cloudwatch", q=unique)
    assert "State history" in page(server, "cloudwatch/alarm", arn=arn)


def test_the_trace_view_finds_an_id_in_function_logs(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    group = f"/aws/lambda/trace-{unique}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": int(time.time() * 1000), "message": f"handled order {unique}-o1"},
        {"timestamp": int(time.time() * 1000), "message": "unrelated"}])
    body = text(page(server, "trace", id=f"{unique}-o1"))
    assert f"handled order {unique}-o1" in body and "unrelated" not in body and f"trace-{unique}" in body


def test_every_list_page_renders(server: ServerProcess) -> None:
    for path in ("", "sqs", "sns", "sns/captured", "events", "events/archives", "events/schedules", "lambda", "sfn",
                 "kinesis", "cloudwatch", "trace"):
        status, body, _ = get(server, f"{MOUNT}/{path}")
        assert status == 200 and "</html>" in body, path


def test_an_unknown_page_is_a_404(server: ServerProcess) -> None:
    assert get(server, f"{MOUNT}/nothing-here")[0] == 404
    assert get(server, f"{MOUNT}/static/../console.py")[0] == 404
    status, body, headers = get(server, f"{MOUNT}/static/htmx.min.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript") and "htmx" in body




def test_archives_and_replays_show_with_their_progress(fresh_server: ServerProcess, unique: str) -> None:
    events = fresh_server.client("events")
    bus_arn = events.create_event_bus(Name=f"b-{unique}")["EventBusArn"]
    archive = events.create_archive(ArchiveName=f"a-{unique}", EventSourceArn=bus_arn)
    start = datetime.now(UTC) - timedelta(minutes=1)
    events.put_events(Entries=[{"Source": unique, "DetailType": "t", "Detail": "{}", "EventBusName": bus_arn}])
    rule = events.put_rule(Name="r", EventBusName=bus_arn, EventPattern=json.dumps({"source": [unique]}))["RuleArn"]
    events.start_replay(ReplayName=f"rp-{unique}", EventSourceArn=archive["ArchiveArn"], EventStartTime=start,
                        EventEndTime=datetime.now(UTC), Destination={"Arn": bus_arn, "FilterArns": [rule]})
    wait_for(lambda: events.describe_replay(ReplayName=f"rp-{unique}")["State"] == "COMPLETED", what="the replay")
    listing = text(page(fresh_server, "events/archives"))
    assert f"a-{unique}" in listing and f"rp-{unique}" in listing and "COMPLETED" in listing and "100%" in listing
    detail = text(page(fresh_server, "events/archive", arn=archive["ArchiveArn"]))
    assert f"rp-{unique}" in detail and "1 events" in detail
    assert f"rp-{unique}" in text(page(fresh_server, "events/replays", source=archive["ArchiveArn"]))

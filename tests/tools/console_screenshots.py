"""Take the README's screenshots of the console: `python tests/tools/console_screenshots.py [DIR]`.

Starts a server of its own, creates a small shop (a queue with a dead-letter queue holding a poison
message, a booking saga that failed and compensated, rules, a topic, a function, a stream), and
saves PNGs of the main pages with headless chromium (installed as the browser tests install it).
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import ServerProcess  # noqa: E402
from tests.console.browser import ensure_browser, start_driver  # noqa: E402
from tests.console.helpers import MOUNT, dead_letter_setup, poison, wait_for  # noqa: E402
from tests.console.test_service_pages import _saga  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/demo"
FULFILMENT = {
    "Comment": "fulfil an order: check stock, charge, pack items in parallel, notify",
    "StartAt": "CheckStock",
    "States": {
        "CheckStock": {"Type": "Pass", "Result": {"inStock": True}, "ResultPath": "$.stock", "Next": "InStock?"},
        "InStock?": {"Type": "Choice", "Choices": [{"Variable": "$.stock.inStock", "BooleanEquals": True,
                                                    "Next": "Fulfil"}], "Default": "BackOrder"},
        "BackOrder": {"Type": "Wait", "Seconds": 3600, "Next": "CheckStock"},
        "Fulfil": {"Type": "Parallel", "Next": "Notify",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Refund"}],
                   "Branches": [
                       {"StartAt": "Charge", "States": {"Charge": {
                           "Type": "Pass", "End": True}}},
                       {"StartAt": "PackItems", "States": {"PackItems": {
                           "Type": "Map", "ItemsPath": "$.items", "End": True,
                           "ItemProcessor": {"StartAt": "Pack", "States": {"Pack": {
                               "Type": "Pass", "End": True}}}}}}]},
        "Notify": {"Type": "Pass", "Next": "Done"},
        "Refund": {"Type": "Pass", "Next": "Failed"},
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "FulfilmentFailed"},
    },
}


def seed(server: ServerProcess) -> dict[str, str]:
    sqs, _, _, dlq_arn = dead_letter_setup(server, "payments")
    url = sqs.get_queue_url(QueueName="payments")["QueueUrl"]
    poison(sqs, url, json.dumps({"orderId": "o-1042", "amount": "12,50"}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"orderId": "o-1043", "amount": 8.0}))
    for name in ("emails", "invoices", "shipping-updates"):
        sqs.create_queue(QueueName=name)
    execution = _saga(server, "booking")
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name="fulfil-order", definition=json.dumps(FULFILMENT), roleArn=ROLE)
    run = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"items": [1, 2, 3]}))
    wait_for(lambda: sfn.describe_execution(executionArn=run["executionArn"])["status"] != "RUNNING")
    events = server.client("events")
    events.put_rule(Name="paid-orders", EventPattern=json.dumps({"source": ["shop.orders"], "detail": {"status": ["paid"]}}))
    events.put_targets(Rule="paid-orders", Targets=[{"Id": "payments", "Arn": dlq_arn.replace("-dlq", "")}])
    events.put_rule(Name="large-orders", EventPattern=json.dumps(
        {"source": ["shop.orders"], "detail": {"total": [{"numeric": [">=", 500]}]}}))
    events.put_rule(Name="nightly-report", ScheduleExpression="cron(0 2 * * ? *)")
    sns = server.client("sns")
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=dlq_arn.replace("-dlq", ""),
                  Attributes={"FilterPolicy": json.dumps({"status": ["paid"]}), "FilterPolicyScope": "MessageBody"})
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
    sns.publish(TopicArn=topic, Subject="Order paid", Message=json.dumps({"orderId": "o-1044", "status": "paid"}))
    function = _function(server)
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="clickstream", ShardCount=2)
    wait_for(lambda: kinesis.describe_stream_summary(StreamName="clickstream")
             ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    first = kinesis.list_shards(StreamName="clickstream")["Shards"][0]
    kinesis.split_shard(StreamName="clickstream", ShardToSplit=first["ShardId"],
                        NewStartingHashKey=str(int(first["HashKeyRange"]["EndingHashKey"]) // 2))
    wait_for(lambda: kinesis.describe_stream_summary(StreamName="clickstream")
             ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    stream = kinesis.describe_stream_summary(StreamName="clickstream")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=stream, ConsumerName="analytics")
    return {"dlq": dlq_arn, "execution": execution, "fulfil": machine["stateMachineArn"], "topic": topic,
            "function": function, "stream": stream}


def _function(server: ServerProcess) -> str:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    print('charging order', event['orderId'])\n"
                                   "    if event.get('amount', 0) < 0:\n        raise ValueError('negative amount')\n"
                                   "    return {'charged': event['orderId']}\n")
    lam = server.client("lambda")
    arn = lam.create_function(FunctionName="charge-card", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                              Code={"ZipFile": code.getvalue()})["FunctionArn"]
    wait_for(lambda: lam.get_function(FunctionName="charge-card")["Configuration"]["State"] == "Active")
    for order, amount in (("o-1040", 20), ("o-1041", -5), ("o-1042", 12)):
        lam.invoke(FunctionName="charge-card", Payload=json.dumps({"orderId": order, "amount": amount}))
    return str(arn)


def shoot(driver: Any, server: ServerProcess, out: Path, name: str, path: str, height: int = 1000,
          **query: str) -> None:
    driver.set_window_size(1280, height)
    driver.get(f"{server.url}{MOUNT}/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else ""))
    time.sleep(1.5)  # let the first live update land so the picture shows the settled page
    driver.save_screenshot(str(out / f"{name}.png"))
    print("saved", out / f"{name}.png")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "console")
    out.mkdir(parents=True, exist_ok=True)
    problem = ensure_browser()
    if problem:
        raise SystemExit(problem)
    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(Path(scratch) / "data").start()
        driver = start_driver(str(Path(scratch) / "profile"))
        try:
            made = seed(server)
            shoot(driver, server, out, "overview", "", 760)
            shoot(driver, server, out, "sqs-dead-letter-queue", "sqs/queue", 1000, arn=made["dlq"])
            shoot(driver, server, out, "stepfunctions-saga-execution", "sfn/execution", 1100, arn=made["execution"])
            shoot(driver, server, out, "stepfunctions-graph", "sfn/machine", 1250, arn=made["fulfil"])
            driver.get(f"{server.url}{MOUNT}/events/bus?arn=" + urllib.parse.quote(
                "arn:aws:events:us-east-1:000000000000:event-bus/default"))
            box = driver.find_element("css selector", "#event-test textarea")
            box.clear()
            box.send_keys(json.dumps({"source": "shop.orders", "detail-type": "Order Placed",
                                      "detail": {"orderId": "o-1045", "status": "cancelled", "total": 120}}))
            driver.find_element("css selector", "#event-test button").click()
            time.sleep(1.5)
            driver.save_screenshot(str(out / "eventbridge-pattern-tester.png"))
            shoot(driver, server, out, "sns-topic", "sns/topic", 1000, arn=made["topic"])
            shoot(driver, server, out, "lambda-function", "lambda/function", 1100, arn=made["function"])
            shoot(driver, server, out, "kinesis-stream", "kinesis/stream", 760, arn=made["stream"])
            driver.get("about:blank")
        finally:
            driver.quit()
            server.stop()


if __name__ == "__main__":
    main()

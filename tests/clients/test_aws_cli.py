"""AWS CLI v1 (`awscli` from PyPI) on each service's main path, pointed at the server by
AWS_ENDPOINT_URL alone, except SQS in us-east-1: CLI v1's `queue.amazonaws.com` customization ignores
AWS_ENDPOINT_URL there, so its calls carry `--endpoint-url` (README, "Clients")."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

from tests.clients.conftest import run_aws
from tests.conftest import ServerProcess

ROLE = "arn:aws:iam::000000000000:role/r"


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def sqs(cli: Path, server: ServerProcess, *args: str) -> Any:
    return run_aws(cli, server, "sqs", *args, "--endpoint-url", server.url)


def test_identity_and_iam(aws_cli: Path, server: ServerProcess, unique: str) -> None:
    assert run_aws(aws_cli, server, "sts", "get-caller-identity")["Arn"] == "arn:aws:iam::000000000000:root"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = run_aws(aws_cli, server, "iam", "create-role", "--role-name", f"cli-{unique}",
                   "--assume-role-policy-document", trust)["Role"]
    run_aws(aws_cli, server, "iam", "attach-role-policy", "--role-name", f"cli-{unique}", "--policy-arn",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    attached = run_aws(aws_cli, server, "iam", "list-attached-role-policies", "--role-name", f"cli-{unique}")
    assert role["Arn"].endswith(f":role/cli-{unique}")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["AWSLambdaBasicExecutionRole"]


def test_sqs_sns_and_eventbridge_deliver(aws_cli: Path, server: ServerProcess, unique: str) -> None:
    url = sqs(aws_cli, server, "create-queue", "--queue-name", f"cli-{unique}")["QueueUrl"]
    arn = sqs(aws_cli, server, "get-queue-attributes", "--queue-url", url, "--attribute-names", "QueueArn")[
        "Attributes"]["QueueArn"]
    sqs(aws_cli, server, "send-message", "--queue-url", url, "--message-body", "direct")
    topic = run_aws(aws_cli, server, "sns", "create-topic", "--name", f"cli-{unique}")["TopicArn"]
    run_aws(aws_cli, server, "sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint",
            arn, "--attributes", "RawMessageDelivery=true")
    run_aws(aws_cli, server, "sns", "publish", "--topic-arn", topic, "--message", "via-sns")
    run_aws(aws_cli, server, "events", "put-rule", "--name", f"cli-{unique}", "--event-pattern",
            json.dumps({"source": ["cli.test"]}))
    run_aws(aws_cli, server, "events", "put-targets", "--rule", f"cli-{unique}", "--targets",
            json.dumps([{"Id": "q", "Arn": arn}]))
    put = run_aws(aws_cli, server, "events", "put-events", "--entries", json.dumps(
        [{"Source": "cli.test", "DetailType": "t", "Detail": json.dumps({"via": "events"})}]))
    assert put["FailedEntryCount"] == 0
    bodies: list[str] = []

    def all_three() -> bool:
        got = sqs(aws_cli, server, "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
                  "--wait-time-seconds", "1")
        for message in (got or {}).get("Messages", []):
            bodies.append(message["Body"])
            sqs(aws_cli, server, "delete-message", "--queue-url", url, "--receipt-handle", message["ReceiptHandle"])
        return len(bodies) >= 3

    assert wait_for(all_three), bodies
    assert "direct" in bodies and "via-sns" in bodies
    assert any(json.loads(b).get("detail") == {"via": "events"} for b in bodies if b.startswith("{"))


def test_lambda_and_step_functions(aws_cli: Path, server: ServerProcess, unique: str, tmp_path: Path) -> None:
    archive = tmp_path / "fn.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n")
    archive.write_bytes(buffer.getvalue())
    run_aws(aws_cli, server, "lambda", "create-function", "--function-name", f"cli-{unique}", "--runtime",
            "python3.12", "--handler", "app.handler", "--role", ROLE, "--zip-file", f"fileb://{archive}")
    out = tmp_path / "out.json"
    run_aws(aws_cli, server, "lambda", "invoke", "--function-name", f"cli-{unique}", "--payload", json.dumps({"n": 21}),
            str(out))
    assert json.loads(out.read_text()) == {"doubled": 42}

    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "done", "End": True}}})
    express = run_aws(aws_cli, server, "stepfunctions", "create-state-machine", "--name", f"cli-x-{unique}",
                      "--definition", definition, "--role-arn", ROLE, "--type", "EXPRESS")["stateMachineArn"]
    # StartSyncExecution's model puts "sync-" in front of the host: botocore's setting turns that off.
    synced = run_aws(aws_cli, server, "stepfunctions", "start-sync-execution", "--state-machine-arn", express,
                     AWS_DISABLE_HOST_PREFIX_INJECTION="true")
    assert (synced["status"], synced["output"]) == ("SUCCEEDED", '"done"')
    standard = run_aws(aws_cli, server, "stepfunctions", "create-state-machine", "--name", f"cli-s-{unique}",
                       "--definition", definition, "--role-arn", ROLE)["stateMachineArn"]
    execution = run_aws(aws_cli, server, "stepfunctions", "start-execution", "--state-machine-arn", standard)[
        "executionArn"]
    described = wait_for(lambda: (d := run_aws(aws_cli, server, "stepfunctions", "describe-execution",
                                               "--execution-arn", execution))["status"] != "RUNNING" and d)
    assert described["status"] == "SUCCEEDED"


def test_kinesis_logs_and_cloudwatch(aws_cli: Path, server: ServerProcess, unique: str) -> None:
    run_aws(aws_cli, server, "kinesis", "create-stream", "--stream-name", f"cli-{unique}", "--shard-count", "1")
    assert wait_for(lambda: run_aws(aws_cli, server, "kinesis", "describe-stream-summary", "--stream-name",
                                    f"cli-{unique}")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    put = run_aws(aws_cli, server, "kinesis", "put-record", "--stream-name", f"cli-{unique}", "--partition-key", "k",
                  "--data", "hello")  # CLI v1 takes a blob argument as text and shows it base64-encoded
    iterator = run_aws(aws_cli, server, "kinesis", "get-shard-iterator", "--stream-name", f"cli-{unique}", "--shard-id",
                       put["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
    records = run_aws(aws_cli, server, "kinesis", "get-records", "--shard-iterator", iterator)["Records"]
    assert [r["Data"] for r in records] == ["aGVsbG8="]

    group = f"/cli/{unique}"
    run_aws(aws_cli, server, "logs", "create-log-group", "--log-group-name", group)
    for stream in ("a", "b"):
        run_aws(aws_cli, server, "logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", stream)
    now = int(time.time() * 1000)
    run_aws(aws_cli, server, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "a",
            "--log-events", json.dumps([{"timestamp": now, "message": "first"}, {"timestamp": now + 2, "message": "third"}]))
    run_aws(aws_cli, server, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "b",
            "--log-events", json.dumps([{"timestamp": now + 1, "message": "second ERROR"}]))
    found = run_aws(aws_cli, server, "logs", "filter-log-events", "--log-group-name", group, "--start-time", str(now),
                    "--interleaved")
    assert [e["message"] for e in found["events"]] == ["first", "second ERROR", "third"]
    errors = run_aws(aws_cli, server, "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern",
                     "ERROR")
    assert [(e["logStreamName"], e["message"]) for e in errors["events"]] == [("b", "second ERROR")]

    run_aws(aws_cli, server, "cloudwatch", "put-metric-data", "--namespace", f"Cli/{unique}", "--metric-name", "Jobs",
            "--value", "3")
    stats = run_aws(aws_cli, server, "cloudwatch", "get-metric-statistics", "--namespace", f"Cli/{unique}",
                    "--metric-name", "Jobs", "--start-time", str(now // 1000 - 600), "--end-time",
                    str(now // 1000 + 600), "--period", "60", "--statistics", "Sum")
    assert sum(point["Sum"] for point in stats["Datapoints"]) == 3.0

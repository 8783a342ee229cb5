"""The AWS CLI v1 on the monitoring half of CloudWatch Logs: put-metric-filter, test-metric-filter,
describe-metric-filters, start-query and get-query-results."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.clients.conftest import run_aws, tool_environment
from tests.conftest import ServerProcess


@pytest.fixture(scope="session")
def aws_cli() -> Path:
    return tool_environment("awscli-v1", ["awscli>=1.32"]) / "bin" / "aws"


def test_metric_filters_from_the_cli(aws_cli: Path, server: ServerProcess, unique: str) -> None:
    group = f"/cli/{unique}"
    run_aws(aws_cli, server, "logs", "create-log-group", "--log-group-name", group)
    run_aws(aws_cli, server, "logs", "put-metric-filter", "--log-group-name", group, "--filter-name", "5xx",
            "--filter-pattern", "[ip, user, ..., status = 5*, bytes]", "--metric-transformations",
            "metricName=ServerErrors,metricNamespace=Web,metricValue=1,defaultValue=0")
    [described] = run_aws(aws_cli, server, "logs", "describe-metric-filters", "--log-group-name", group)["metricFilters"]
    assert described["filterName"] == "5xx" and described["metricTransformations"] == [
        {"metricName": "ServerErrors", "metricNamespace": "Web", "metricValue": "1", "defaultValue": 0.0}]
    tested = run_aws(aws_cli, server, "logs", "test-metric-filter", "--filter-pattern", "[ip, user, ..., status = 5*, bytes]",
                     "--log-event-messages", "10.0.0.1 - 503 12", "10.0.0.2 - 200 7")
    assert tested["matches"] == [{"eventNumber": 1, "eventMessage": "10.0.0.1 - 503 12", "extractedValues": {
        "$ip": "10.0.0.1", "$user": "-", "$status": "503", "$bytes": "12"}}]


def test_a_query_from_the_cli(aws_cli: Path, server: ServerProcess, unique: str) -> None:
    group = f"/cli-query/{unique}"
    now_s = int(time.time())  # PutLogEvents skips events older than 14 days
    run_aws(aws_cli, server, "logs", "create-log-group", "--log-group-name", group)
    run_aws(aws_cli, server, "logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "s")
    run_aws(aws_cli, server, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "s",
            "--log-events", json.dumps([{"timestamp": now_s * 1000 + n, "message": json.dumps({"status": s})}
                                        for n, s in enumerate((200, 500, 500))]))
    started = run_aws(aws_cli, server, "logs", "start-query", "--log-group-name", group, "--start-time",
                      str(now_s - 100), "--end-time", str(now_s + 100), "--query-string",
                      "filter status = 500 | stats count(*) as errors")
    deadline = time.monotonic() + 30
    while (answer := run_aws(aws_cli, server, "logs", "get-query-results", "--query-id", started["queryId"]))[
            "status"] != "Complete":
        assert time.monotonic() < deadline, answer
        time.sleep(0.1)
    assert answer["results"] == [[{"field": "errors", "value": "2"}]]
    assert answer["statistics"]["recordsMatched"] == 2.0

"""The console's fault injection page: the active rules with their counts, live, and a clear button;
every page's navigation says when rules are active."""

from __future__ import annotations

import html
import re

from tests.conftest import ServerProcess
from tests.console.helpers import page, post
from tests.faults.conftest import faults_request, set_faults
from tests.faults.test_api_faults import client


def cells(body: str, fault: str) -> list[str]:
    row = re.search(rf'<tr data-fault="{fault}">(.*?)</tr>', body, re.S)
    assert row is not None, body
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1),
                                                                                         re.S)]


def test_the_faults_page_shows_the_active_rules_with_their_counts(faulty: ServerProcess, unique: str) -> None:
    assert 'id="no-faults"' in page(faulty, "faults")
    assert 'id="faults-on"' not in page(faulty, "")
    sqs = client(faulty, "sqs")  # no retries: each send is one attempt
    url = sqs.create_queue(QueueName=f"shown-{unique}")["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": f"shown-{unique}", "operation": "SendMessage",
                         "fault": "error", "code": "ServiceUnavailable", "status": 503, "probability": 1.0},
                        {"service": "events", "fault": "delay", "ms": 1500, "probability": 0.25}], seed=31)
    for _ in range(2):
        try:
            sqs.send_message(QueueUrl=url, MessageBody="x")
        except Exception:  # the rule answers 503, as intended
            pass
    body = page(faulty, "faults")
    assert 'id="fault-seed">31<' in body
    error_row = cells(body, "error")
    assert error_row[1:5] == ["sqs", f"shown-{unique}", "SendMessage", "error"]
    assert "code=ServiceUnavailable" in error_row[6] and "status=503" in error_row[6]
    assert error_row[7:] == ["2", "2"]  # matched, fired
    assert cells(page(faulty, "faults/rows"), "delay")[5:7] == ["0.25", "ms=1500"]
    assert 'id="faults-on"' in page(faulty, "sqs")  # every page's navigation says so


def test_the_clear_button_removes_every_rule(faulty: ServerProcess) -> None:
    set_faults(faulty, [{"service": "sns", "fault": "throttle"}])
    status, _, headers = post(faulty, "faults/clear", {"region": "us-east-1"})
    assert status == 303 and "notice=" in headers["location"]
    assert faults_request(faulty, "GET")[1]["rules"] == []
    assert 'id="no-faults"' in page(faulty, "faults")

"""`eventyard faults set|show|clear` against a running server, as a developer's shell runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, ServerProcess
from tests.faults.conftest import faults_request

RULES = {"seed": 11, "rules": [{"service": "sqs", "resource": "orders", "fault": "duplicate", "probability": 0.5},
                               {"service": "events", "fault": "delay", "ms": 2500}]}


def eventyard(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eventyard", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=60)


def test_set_from_standard_input_then_show_and_clear(faulty: ServerProcess) -> None:
    done = eventyard("faults", "set", "-", "--endpoint", faulty.url, stdin=json.dumps(RULES))
    assert done.returncode == 0, done.stderr
    assert faults_request(faulty, "GET")[1]["seed"] == 11
    shown = eventyard("faults", "show", "--endpoint", faulty.url)
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert lines[0] == "seed 11"
    assert lines[1].split() == ["#", "service", "resource", "operation", "fault", "probability", "parameters",
                                "matched", "fired"]
    assert lines[2].split() == ["0", "sqs", "orders", "-", "duplicate", "0.5", "-", "0", "0"]
    assert lines[3].split() == ["1", "events", "*", "-", "delay", "1", "ms=2500", "0", "0"]
    cleared = eventyard("faults", "clear", "--endpoint", faulty.url)
    assert cleared.returncode == 0 and "no fault rules are active" in cleared.stdout
    assert faults_request(faulty, "GET")[1]["rules"] == []


def test_set_from_a_file_with_the_endpoint_from_aws_endpoint_url(faulty: ServerProcess, tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES["rules"]))  # a bare list of rules: seed 0
    done = eventyard("faults", "set", str(rules), "--json", env={"AWS_ENDPOINT_URL": faulty.url})
    assert done.returncode == 0, done.stderr
    assert [r["fault"] for r in json.loads(done.stdout)["rules"]] == ["duplicate", "delay"]
    assert json.loads(done.stdout)["seed"] == 0


def test_a_refused_document_or_an_unreachable_server_fails_with_the_reason(faulty: ServerProcess) -> None:
    refused = eventyard("faults", "set", "-", "--endpoint", faulty.url,
                        stdin=json.dumps({"rules": [{"service": "sqs", "fault": "explode"}]}))
    assert refused.returncode == 1 and "fault must be one of" in refused.stderr
    garbled = eventyard("faults", "set", "-", "--endpoint", faulty.url, stdin="{not json")
    assert garbled.returncode == 2 and "standard input is not JSON" in garbled.stderr
    away = eventyard("faults", "show", "--endpoint", "http://127.0.0.1:9")
    assert away.returncode == 2 and "cannot reach" in away.stderr

"""The AWS SDK for JavaScript v3, one client per served service, on each service's main path with
the SDK's defaults (its Kinesis client on HTTP/2); installed from npm by the tests' set-up."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import JS_DIR
from tests.conftest import ServerProcess


def _zip() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n")
    return base64.b64encode(buffer.getvalue()).decode()


def run(node: Path, server: ServerProcess, scenario: str, unique: str) -> Any:
    done = subprocess.run([str(node), "scenario.mjs", server.url, scenario, unique], cwd=JS_DIR, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "ZIP_BASE64": _zip()})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


EXPECTED: dict[str, Any] = {
    "sqs": {"body": "hello from js", "md5": "e06725288a11aff6c765f0ec5448edd3"},
    "sns": {"body": "fanned out"},
    "eventbridge": {"failed": 0, "detail": {"n": 7}},
    "scheduler": {"state": "ENABLED", "expression": "rate(5 minutes)", "target": True},
    "kinesis": {"data": ["record from js"]},
    "lambda": {"status": 200, "payload": {"doubled": 42}},
    "sfn": {"status": "SUCCEEDED", "output": '"done"', "syncStatus": "SUCCEEDED"},
    "logs": {"messages": ["one", "two"]},
    "cloudwatch": {"sum": 4},
    "pipes": {"body": "piped"},
    "schemas": {"version": "1", "type": "OpenApi3"},
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_a_javascript_client_runs_its_services_main_path(node: Path, server: ServerProcess, unique: str,
                                                        scenario: str) -> None:
    assert run(node, server, scenario, unique) == EXPECTED[scenario]


def test_the_javascript_iam_and_sts_clients_assume_a_role(node: Path, server: ServerProcess, unique: str) -> None:
    seen = run(node, server, "iam", unique)
    assert seen["trust"]["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::000000000000:root"}
    assert seen["arn"] == f"arn:aws:sts::000000000000:assumed-role/js-{unique}/js"

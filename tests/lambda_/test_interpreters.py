"""Which Python runs a `python3.x` function: the declared version when the host has it with awslambdaric,
otherwise the server's own, and GetFunction says which (RuntimeVersionConfig)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from eventyard.services.lambda_.interpreters import choose, own_version

OWN = own_version()


def fake_python(directory: Path, name: str, script: str) -> Path:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def test_the_servers_own_version_runs_on_the_servers_python() -> None:
    declared = "python%d.%d" % sys.version_info[:2]
    choice = asyncio.run(choose(declared))
    assert choice.executable == sys.executable and choice.version == OWN and choice.fallback_reason is None


def test_a_declared_version_missing_from_the_host_falls_back_with_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    choice = asyncio.run(choose("python3.99"))
    assert choice.executable == sys.executable and choice.version == OWN
    assert choice.fallback_reason == f"No python3.99 interpreter on the host: the function runs on the server's " \
                                     f"Python {OWN} ({sys.executable})."


def test_an_interpreter_without_awslambdaric_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_python(tmp_path, "python3.99", "echo \"ModuleNotFoundError: No module named 'awslambdaric'\" >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    choice = asyncio.run(choose("python3.99"))
    assert choice.executable == sys.executable
    assert choice.fallback_reason is not None and "cannot import awslambdaric" in choice.fallback_reason


def test_an_interpreter_of_another_version_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_python(tmp_path, "python3.99", "echo 3.98.1")
    monkeypatch.setenv("PATH", str(tmp_path))
    choice = asyncio.run(choose("python3.99"))
    assert choice.executable == sys.executable
    assert choice.fallback_reason is not None and "is Python 3.98.1, not 3.99" in choice.fallback_reason


def test_the_declared_interpreter_is_used_when_it_has_awslambdaric(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = fake_python(tmp_path, "python3.99", "echo 3.99.2")
    monkeypatch.setenv("PATH", str(tmp_path))
    choice = asyncio.run(choose("python3.99"))
    assert choice.executable == str(script) and choice.version == "3.99.2" and choice.fallback_reason is None


REPORTER = """
import sys
def handler(event, context):
    return {"version": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable}
"""


def test_get_function_shows_aws_runtime_version_shape_whichever_python_runs(lam: Any, make_function: Any) -> None:
    """AWS's RuntimeVersionConfig has no room for the host's interpreter: it names a runtime version by
    a hash (stable per runtime); which Python really runs is in the server's log and the function's own view."""
    name = make_function(REPORTER, Runtime="python3.12")
    ran = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert ran["version"].startswith("3.")
    configs = [lam.get_function(FunctionName=name)["Configuration"], lam.get_function_configuration(FunctionName=name)]
    arns = {c["RuntimeVersionConfig"]["RuntimeVersionArn"] for c in configs}
    assert len(arns) == 1 and all(set(c["RuntimeVersionConfig"]) == {"RuntimeVersionArn"} for c in configs)
    assert re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", arns.pop())

"""A Python function imports boto3 without bundling it, as AWS's managed runtimes ship the SDK: on an
interpreter without its own boto3 the server's SDK packages are offered last on PYTHONPATH."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from eventyard.services.lambda_.interpreters import choose
from eventyard.services.lambda_.python_sdk import build
from tests import debian_packages
from tests.conftest import CLIENT_CONFIG, ServerProcess
from tests.lambda_ import other_python as other_python_for_tests
from tests.lambda_.conftest import ROLE, make_zip


def test_the_sdk_folder_alone_makes_boto3_importable(tmp_path: Path) -> None:
    folder = build(tmp_path / "sdk")
    assert folder is not None and (folder / "boto3").is_symlink() and (folder / "botocore").is_symlink()
    # -I: no site-packages, no PYTHONPATH; only the folder is added
    code = f"import sys; sys.path.append({str(folder)!r}); import boto3; print(boto3.__version__)"
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip()
    assert build(tmp_path / "sdk") == folder  # building again keeps the links


def fake_python(directory: Path, answer: str) -> Path:
    path = directory / "python3.99"
    path.write_text(f"#!/bin/sh\necho {answer}\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(("answer", "has_sdk"), [("3.99.2 True", True), ("3.99.2 False", False), ("3.99.2", False)])
def test_the_probe_says_whether_the_interpreter_has_boto3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          answer: str, has_sdk: bool) -> None:
    fake_python(tmp_path, answer)
    monkeypatch.setenv("PATH", str(tmp_path))
    choice = asyncio.run(choose("python3.99"))
    assert choice.version == "3.99.2" and choice.has_sdk is has_sdk


@pytest.fixture(scope="module")
def other_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServerProcess]]:
    """A server whose PATH has another Python version with awslambdaric (tests/lambda_/other_python.py)."""
    prepared = other_python_for_tests.prepare(tmp_path_factory.mktemp("other-python"))
    if prepared is None:
        message = "this machine has no other Python 3.10+ that can install awslambdaric"
        if debian_packages.required():
            pytest.fail(message)
        pytest.skip(message)
    runtime, bin_dir = prepared
    process = ServerProcess(tmp_path_factory.mktemp("other-python-server") / "data",
                            env={"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"})
    process.start()
    yield runtime, process
    process.stop()


SDK_USER = """
import sys, boto3
def handler(event, context):
    return {"version": "%d.%d" % sys.version_info[:2], "boto3": boto3.__file__}
"""


def test_a_function_on_another_interpreter_imports_boto3(other_python: tuple[str, ServerProcess]) -> None:
    runtime, server = other_python
    lam = boto3.client("lambda", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret", config=CLIENT_CONFIG)
    lam.create_function(FunctionName="sdk-user", Runtime=runtime, Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": SDK_USER})}, Timeout=10)
    result = lam.invoke(FunctionName="sdk-user")
    body = json.loads(result["Payload"].read())
    assert "FunctionError" not in result, body
    assert body["version"] == runtime.removeprefix("python")


def test_the_probe_reports_the_standard_library_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_python(tmp_path, "3.99.2 True /opt/py 3.99/lib/python3.99")
    monkeypatch.setenv("PATH", str(tmp_path))
    choice = asyncio.run(choose("python3.99"))
    assert choice.stdlib == "/opt/py 3.99/lib/python3.99" and choice.minor == "3.99"


FAILS_IN_STDLIB = """
import json
def handler(event, context):
    return json.loads("{")
"""


def test_stack_traces_name_the_runtimes_folders_as_aws_does(lam: Any, make_function: Any) -> None:
    """The interpreter's standard library is /var/lang/lib/python3.x in AWS's sandbox."""
    name = make_function(FAILS_IN_STDLIB)
    error = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    files = [line.split('"')[1] for line in error["stackTrace"]]
    assert files[0] == "/var/task/app.py"
    assert all(f.startswith("/var/lang/lib/python3.") for f in files[1:]) and len(files) > 1, files


def test_the_sdk_is_offered_only_to_interpreters_it_supports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eventyard.services.lambda_ import python_sdk

    assert python_sdk.oldest_python() >= (3, 0)  # read from the packages' Requires-Python
    monkeypatch.setattr(python_sdk, "oldest_python", lambda: (3, 10))
    sdk = python_sdk.PythonSdk(tmp_path / "sdk")
    assert sdk.path_for("3.9") is None  # the function finds no boto3 rather than a broken one
    assert sdk.path_for("3.12") == str(tmp_path / "sdk")

"""A real package: the Docker build context holds what the Dockerfile copies, the wheel built from it
(as the Dockerfile's first stage builds it) carries its data files, its entry point and runtime
dependencies only, and installs into a fresh virtual environment whose `eventyard serve` works."""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

import eventyard
from tests.conftest import CLIENT_CONFIG, free_port

ROOT = Path(__file__).resolve().parents[2]
TEST_ONLY = ("pytest", "hypothesis", "aws-lambda-powertools", "boto3", "selenium")
DATA_FILES = ("eventyard/services/lambda_/node_runtime.js", "eventyard/services/iam/aws_managed_policies.json",
              "eventyard/console/templates/base.html", "eventyard/console/static/htmx.min.js")


def dockerfile_instructions() -> list[tuple[str, list[str]]]:
    lines, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        if raw.strip().startswith("#") and not current:
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.endswith("\\"):
            if current.strip():
                word, _, rest = current.strip().partition(" ")
                lines.append((word.upper(), [rest]))
            current = ""
    return [(word, shlex.split(rest[0]) if word in ("COPY", "VOLUME", "EXPOSE", "USER") else rest)
            for word, rest in lines]


def in_context(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the repository) in the build context."""
    keep = True
    for pattern in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = Path(path).parts
        if any(fnmatch.fnmatch("/".join(parts[:i]), pattern) or fnmatch.fnmatch("/".join(parts[:i]), pattern + "/**")
               for i in range(1, len(parts) + 1)):
            keep = negate
    return keep


def build_context(into: Path) -> Path:
    """The files `docker build` would send: everything .dockerignore keeps."""
    for directory, subdirectories, files in os.walk(ROOT):
        relative = Path(directory).relative_to(ROOT)
        subdirectories[:] = [d for d in subdirectories if d != ".git" and not (ROOT / relative / d).is_symlink()]
        for name in files:
            path = str(relative / name) if str(relative) != "." else name
            if in_context(path):
                target = into / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes((ROOT / path).read_bytes())
    return into


def test_the_dockerfile_copies_only_what_its_context_holds_and_runs_as_a_service() -> None:
    instructions = dockerfile_instructions()
    for word, args in instructions:
        if word == "COPY" and not any(a.startswith("--from") for a in args):
            for source in args[:-1]:
                assert (ROOT / source).exists() and in_context(source), f"COPY {source}: not in the build context"
    words = dict(instructions)
    assert words["USER"] != ["root"] and words["VOLUME"] == ["/data"] and words["EXPOSE"] == ["4566"]
    assert "/_eventyard/health" in words["HEALTHCHECK"][0]
    assert '"--host", "0.0.0.0"' in words["ENTRYPOINT"][0]
    assert instructions[0][1][0].startswith("python:") and "slim" in instructions[0][1][0]
    assert not in_context("tests/conftest.py") and not in_context(".venv/bin/python")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from the Docker build context, with the Dockerfile's own command."""
    context = build_context(tmp_path_factory.mktemp("context"))
    out = tmp_path_factory.mktemp("wheels")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-cache-dir", "--no-deps",
                            "--wheel-dir", str(out), "."], cwd=context, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    assert "Deprecat" not in built.stdout + built.stderr, "the build warns about a deprecation"
    return next(out.glob("eventyard-*.whl"))


def test_the_wheel_carries_its_data_entry_point_and_runtime_dependencies_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert set(DATA_FILES) <= names
    assert not any(n.startswith("tests/") for n in names)
    assert f"Version: {eventyard.__version__}" in metadata and "License-Expression: Apache-2.0" in metadata
    runtime = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert runtime and not [line for line in runtime if any(name in line for name in TEST_ONLY)]
    assert "eventyard = eventyard.cli:main" in entry_points


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with nothing but the wheel and its dependencies (from PyPI)."""
    home = tmp_path_factory.mktemp("fresh-venv")
    venv.EnvBuilder(with_pip=True).create(home)
    install = subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-4000:]
    check = subprocess.run([str(home / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    return home


@pytest.fixture
def installed_server(installed: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "EVENTYARD_"))}
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([str(installed / "bin" / "eventyard"), "serve", "--port", str(port), "--data-dir",
                                str(tmp_path / "data")], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/_eventyard/health", timeout=1) as response:
                    if json.load(response)["status"] == "running":
                        break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def test_the_installed_wheel_serves_from_anywhere(installed: Path, installed_server: str) -> None:
    version = subprocess.run([str(installed / "bin" / "eventyard"), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"eventyard {eventyard.__version__}"
    with urllib.request.urlopen(f"{installed_server}/_eventyard/health", timeout=5) as response:
        health = json.load(response)
    assert health["version"] == eventyard.__version__ and {"sqs", "iam", "sts"} <= set(health["services"])
    sqs = boto3.client("sqs", endpoint_url=installed_server, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret", config=CLIENT_CONFIG)
    url = sqs.create_queue(QueueName="from-the-wheel")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="packaged")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "packaged"
    iam = boto3.client("iam", endpoint_url=installed_server, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret", config=CLIENT_CONFIG)
    policy = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert policy["Policy"]["DefaultVersionId"] == "v1"  # the data file travelled inside the wheel


def test_make_run_installs_the_server_alone_and_takes_a_port(tmp_path: Path) -> None:
    # --no-print-directory: under `make test` (MAKELEVEL set) make would add "Leaving directory" lines.
    planned = subprocess.run(["make", "--no-print-directory", "-n", "run", "PORT=4567", f"VENV={tmp_path / 'venv'}"],
                             cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    installs = [line for line in planned.splitlines() if " pip install " in line]
    assert installs and all("[" not in line for line in installs), installs  # no extras: no test tools
    assert planned.splitlines()[-1].endswith("eventyard serve --host 127.0.0.1 --port 4567")

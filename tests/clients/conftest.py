"""The client matrix's own tools, installed by the tests' set-up (never by hand): the AWS CLI v1 and
Celery each in a virtual environment of their own (their pins must not move the suite's botocore),
and the AWS SDK for JavaScript v3 from npm."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, ServerProcess

TOOLS = ROOT / ".venv" / "client-tools" if (ROOT / ".venv").is_dir() else ROOT / ".client-tools"
JS_DIR = Path(__file__).parent / "js"


def tool_environment(name: str, requirements: list[str]) -> Path:
    """A virtual environment with `requirements` from PyPI, made once and reused while they stay the same."""
    home = TOOLS / name
    stamp = home / "requirements.json"
    if stamp.exists() and json.loads(stamp.read_text()) == requirements:
        return home
    shutil.rmtree(home, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(home)
    installed = subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", *requirements],
                               capture_output=True, text=True, timeout=900)
    if installed.returncode != 0:
        pytest.fail(f"pip install {' '.join(requirements)} failed:\n{installed.stderr[-3000:]}")
    stamp.write_text(json.dumps(requirements))
    return home


@pytest.fixture(scope="session")
def aws_cli() -> Path:
    return tool_environment("awscli-v1", ["awscli>=1.32"]) / "bin" / "aws"


@pytest.fixture(scope="session")
def celery_env() -> Path:
    return tool_environment("celery-sqs", ["celery[sqs]>=5.3"])


@pytest.fixture(scope="session")
def node() -> Path:
    node_path, npm = shutil.which("node"), shutil.which("npm")
    if node_path is None or npm is None:
        pytest.fail("node and npm are needed for the JavaScript SDK checks (Debian: apt-get install nodejs npm)")
    if not (JS_DIR / "node_modules" / ".installed").exists():
        install = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                                 capture_output=True, text=True, timeout=600)
        if install.returncode != 0:
            pytest.fail(f"npm install of the AWS SDK for JavaScript v3 failed:\n{install.stderr}")
        (JS_DIR / "node_modules" / ".installed").write_text("")
    return Path(node_path)


def cli_env(server: ServerProcess, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": server.url, "AWS_PAGER": "", **extra}


def run_aws(cli: Path, server: ServerProcess, *args: str, **env: str) -> Any:
    """`aws <args> --output json` against the server; the parsed output (None when it prints nothing)."""
    done = subprocess.run([str(cli), *args, "--output", "json"], capture_output=True, text=True, timeout=120,
                          env=cli_env(server, **env))
    assert done.returncode == 0, f"aws {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else None

"""With `--auth sigv4`, Lambda assumes a function's execution role as its service principal
(`lambda.amazonaws.com`, which the role's trust policy names), so the environment gets the role's own
session there too, not placeholder keys; the function's SDK calls are signed with it and accepted."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from tests.conftest import CLIENT_CONFIG, ServerProcess, start_authenticated
from tests.lambda_.conftest import ROLE, make_zip
from tests.lambda_.test_lambda_runtime_sandbox import WHO_AM_I

KEY = ("AKIAOWNER00000000001", "owner-secret", "000000000000")


@pytest.fixture(scope="module")
def authenticated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_authenticated(tmp_path_factory.mktemp("lambda-auth") / "data", KEY)
    yield process
    process.stop()


def test_the_environment_runs_as_a_session_of_its_role_with_auth_on(authenticated: ServerProcess) -> None:
    lam = boto3.client("lambda", endpoint_url=authenticated.url, region_name="us-east-1", aws_access_key_id=KEY[0],
                       aws_secret_access_key=KEY[1], config=CLIENT_CONFIG)
    lam.create_function(FunctionName="who-auth", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Timeout=10, Code={"ZipFile": make_zip({"app.py": WHO_AM_I})})
    answer = lam.invoke(FunctionName="who-auth", Payload=b"{}")
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    assert body["key"].startswith("ASIA")  # a real session's key, which the server accepted for the STS call
    assert body["identity"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/lambda-role/who-auth"

"""The execution roles the suite's functions, state machines, pipes and schedules name.

AWS refuses a Lambda function or a state machine whose role does not exist or does not trust the
service, and so does Eventyard. Every test server therefore gets these roles right after it starts,
created through IAM as a project's set-up script creates its roles (idempotent across restarts and
across nodes sharing one database). With authentication on they are created in the account of each
key configured in EVENTYARD_ACCESS_KEYS.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROLE_NAMES = ("r", "lambda-role", "sfn-role", "integration", "pipe-role", "fuzz", "demo", "bench")
TRUSTED_SERVICES = ["lambda.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com",
                    "scheduler.amazonaws.com", "pipes.amazonaws.com"]
TRUST_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": TRUSTED_SERVICES}, "Action": "sts:AssumeRole"}]})


def create_test_roles(url: str, env: dict[str, str]) -> None:
    for key, secret in _credentials(env):
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                           aws_secret_access_key=secret, config=Config(retries={"max_attempts": 3}))
        for name in ROLE_NAMES:
            _create(iam, name)


def _create(iam: Any, name: str) -> None:
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_POLICY)
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise


def _credentials(env: dict[str, str]) -> list[tuple[str, str]]:
    if env.get("EVENTYARD_AUTH", "").lower() != "sigv4":
        return [("AKIDEXAMPLE", "secret")]
    found = []
    for entry in env.get("EVENTYARD_ACCESS_KEYS", "").split(","):
        parts = entry.strip().split(":")
        if len(parts) >= 2 and parts[0]:
            found.append((parts[0], parts[1]))
    return found

"""STS: who is calling, temporary credentials for a role or a session, and (with `--auth sigv4`)
those credentials signing requests until they expire on the server's clock."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from botocore.credentials import Credentials

from tests.conftest import ServerProcess
from tests.iam.test_roles_and_policies import LAMBDA_TRUST, error_of
from tests.iam.test_users_and_keys import client_as
from tests.signing import signed_headers

ADMIN = ("AKIDSTSADMINEXAMPLE1", "sts-admin-secret", "333333333333")


def trust_for(*principals: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}]})


def test_the_caller_is_the_accounts_root_by_default(server: ServerProcess) -> None:
    identity = server.client("sts").get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (
        "000000000000", "arn:aws:iam::000000000000:root", "000000000000")


def test_an_iam_users_key_is_that_user(server: ServerProcess, unique: str) -> None:
    iam = server.client("iam")
    user = iam.create_user(UserName=f"who-{unique}")["User"]
    key = iam.create_access_key(UserName=f"who-{unique}")["AccessKey"]
    identity = client_as(server, "sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert (identity["Arn"], identity["UserId"]) == (user["Arn"], user["UserId"])


def test_assume_role_returns_credentials_that_are_the_role_session(server: ServerProcess, unique: str) -> None:
    iam, sts = server.client("iam"), server.client("sts")
    role = iam.create_role(RoleName=f"deploy-{unique}", AssumeRolePolicyDocument=trust_for("000000000000"),
                           MaxSessionDuration=7200)["Role"]
    assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ci", DurationSeconds=7200)
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    assert assumed["AssumedRoleUser"] == {"AssumedRoleId": f"{role['RoleId']}:ci",
                                          "Arn": f"arn:aws:sts::000000000000:assumed-role/deploy-{unique}/ci"}
    as_role = client_as(server, "sts", credentials["AccessKeyId"], credentials["SecretAccessKey"],
                        credentials["SessionToken"])
    assert as_role.get_caller_identity()["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert error_of(lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ci", DurationSeconds=7201)) == (
        "ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")


def test_assuming_a_role_that_does_not_exist_is_denied(server: ServerProcess) -> None:
    arn = "arn:aws:iam::000000000000:role/not-there"
    assert error_of(lambda: server.client("sts").assume_role(RoleArn=arn, RoleSessionName="s1")) == (
        "AccessDenied", 403, f"User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole "
                             f"on resource: {arn}")


def test_session_tokens_and_their_limits(server: ServerProcess, unique: str) -> None:
    sts = server.client("sts")
    root_session = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    lasts = root_session["Expiration"].timestamp() - sts.get_session_token(DurationSeconds=900)["Credentials"][
        "Expiration"].timestamp()
    assert 3600 - 900 - 60 < lasts <= 3600 - 900 + 60  # the root user's sessions last at most an hour
    role = server.client("iam").create_role(RoleName=f"s-{unique}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    assumed = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="x1")["Credentials"]
    as_role = client_as(server, "sts", assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"])
    assert error_of(lambda: as_role.get_session_token()) == (
        "AccessDenied", 403, "Cannot call GetSessionToken with session credentials")


def signed_advance(server: ServerProcess, seconds: float) -> None:
    """/_eventyard/clock needs a signature too when authentication is on."""
    body = json.dumps({"advance": seconds}).encode()
    url = f"{server.url}/_eventyard/clock"
    headers = signed_headers("POST", url, body, {"Content-Type": "application/json"}, "eventyard",
                             credentials=Credentials(ADMIN[0], ADMIN[1]))
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="POST"), timeout=10) as r:
        assert r.status == 200


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("iam-auth") / "data", env={
        "EVENTYARD_AUTH": "sigv4", "EVENTYARD_ACCESS_KEYS": ":".join(ADMIN)}).start()
    yield process
    process.stop()


def test_with_authentication_on_iam_keys_and_sessions_sign_requests(auth_server: ServerProcess, unique: str) -> None:
    admin_iam = client_as(auth_server, "iam", ADMIN[0], ADMIN[1])
    admin_iam.create_user(UserName=f"dev-{unique}")
    key = admin_iam.create_access_key(UserName=f"dev-{unique}")["AccessKey"]
    dev_sts = client_as(auth_server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert dev_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ADMIN[2]}:user/dev-{unique}"
    assert error_of(lambda: client_as(auth_server, "sts", key["AccessKeyId"], "wrong" * 8).get_caller_identity())[0] == (
        "SignatureDoesNotMatch")

    trusted = admin_iam.create_role(RoleName=f"t-{unique}", AssumeRolePolicyDocument=trust_for(
        f"arn:aws:iam::{ADMIN[2]}:user/dev-{unique}"))["Role"]["Arn"]
    untrusted = admin_iam.create_role(RoleName=f"u-{unique}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]
    assert error_of(lambda: dev_sts.assume_role(RoleArn=untrusted["Arn"], RoleSessionName="s1"))[:2] == (
        "AccessDenied", 403)
    credentials = dev_sts.assume_role(RoleArn=trusted, RoleSessionName="work")["Credentials"]
    session_sqs = client_as(auth_server, "sqs", credentials["AccessKeyId"], credentials["SecretAccessKey"],
                            credentials["SessionToken"])
    assert session_sqs.list_queues().get("QueueUrls", []) == []
    without_token = client_as(auth_server, "sqs", credentials["AccessKeyId"], credentials["SecretAccessKey"])
    assert error_of(lambda: without_token.list_queues())[1] == 403

    signed_advance(auth_server, 3601)  # past the session's Expiration, on the server's clock
    assert error_of(lambda: session_sqs.list_queues())[0] == "ExpiredToken"

    admin_iam.update_access_key(UserName=f"dev-{unique}", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert error_of(lambda: dev_sts.get_caller_identity())[0] == "InvalidClientTokenId"

"""IAM users, groups and access keys (stored, listed and deleted as AWS does)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.conftest import CLIENT_CONFIG, ServerProcess
from tests.iam.test_roles_and_policies import READ_QUEUES, error_of


def client_as(server: ServerProcess, service: str, key: str, secret: str, token: str | None = None) -> Any:
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token, config=CLIENT_CONFIG)


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return server.client("iam")


def test_users_have_at_most_two_access_keys_whose_secret_is_shown_once(iam: Any, unique: str) -> None:
    user = f"dev-{unique}"
    created = iam.create_user(UserName=user, Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:user/{user}" and created["UserId"].startswith("AIDA")
    first = iam.create_access_key(UserName=user)["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40 and first["Status"] == "Active"
    iam.create_access_key(UserName=user)
    assert error_of(lambda: iam.create_access_key(UserName=user)) == (
        "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")
    listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert len(listed) == 2 and all("SecretAccessKey" not in k for k in listed)
    iam.update_access_key(UserName=user, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    assert statuses[first["AccessKeyId"]] == "Inactive"
    assert error_of(lambda: iam.delete_user(UserName=user)) == (
        "DeleteConflict", 409, "Cannot delete entity, must delete access keys first.")
    for key in listed:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    assert error_of(lambda: iam.delete_access_key(UserName=user, AccessKeyId=first["AccessKeyId"])) == (
        "NoSuchEntity", 404, f"The Access Key with id {first['AccessKeyId']} cannot be found.")
    iam.delete_user(UserName=user)
    assert error_of(lambda: iam.get_user(UserName=user)) == (
        "NoSuchEntity", 404, f"The user with name {user} cannot be found.")


def test_groups_hold_users_and_policies(iam: Any, unique: str) -> None:
    user, group = f"member-{unique}", f"team-{unique}"
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=json.dumps(READ_QUEUES))
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess")
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert error_of(lambda: iam.delete_user(UserName=user))[2] == "Cannot delete entity, must remove users from group first."
    assert error_of(lambda: iam.delete_group(GroupName=group))[2] == (
        "Cannot delete entity, must remove users from group first.")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group_policy(GroupName=group, PolicyName="read")
    iam.detach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess")
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)


def test_inline_and_attached_user_policies(iam: Any, unique: str) -> None:
    user = f"pol-{unique}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(READ_QUEUES))
    assert iam.get_user_policy(UserName=user, PolicyName="read")["PolicyDocument"] == READ_QUEUES
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert [p["PolicyName"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]] == [
        "AdministratorAccess"]
    assert error_of(lambda: iam.delete_user(UserName=user))[2] == "Cannot delete entity, must detach all policies first."


def test_get_user_without_a_name_answers_for_the_caller(server: ServerProcess, iam: Any, unique: str) -> None:
    assert iam.get_user()["User"]["Arn"] == "arn:aws:iam::000000000000:root"
    iam.create_user(UserName=f"me-{unique}")
    key = iam.create_access_key(UserName=f"me-{unique}")["AccessKey"]
    as_user = client_as(server, "iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert as_user.get_user()["User"]["UserName"] == f"me-{unique}"
    assert [k["AccessKeyId"] for k in as_user.list_access_keys()["AccessKeyMetadata"]] == [key["AccessKeyId"]]

"""IAM roles, managed and inline policies, instance profiles: boto3 against a live server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess

LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
READ_QUEUES = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["sqs:ReceiveMessage"], "Resource": "*"}]}
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return server.client("iam")


def error_of(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


def test_a_role_is_created_read_listed_and_deleted_with_its_trust_policy(iam: Any, unique: str) -> None:
    created = iam.create_role(RoleName=f"fn-{unique}", Path="/service/", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
                              Description="runs functions", Tags=[{"Key": "team", "Value": "a"}])["Role"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:role/service/fn-{unique}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    role = iam.get_role(RoleName=f"fn-{unique}")["Role"]
    assert role["AssumeRolePolicyDocument"] == LAMBDA_TRUST  # botocore decodes IAM's URL-encoded document
    assert (role["Description"], role["MaxSessionDuration"], role["Tags"]) == ("runs functions", 3600,
                                                                             [{"Key": "team", "Value": "a"}])
    names = [r["RoleName"] for r in iam.get_paginator("list_roles").paginate(PathPrefix="/service/").build_full_result()
             ["Roles"]]
    assert f"fn-{unique}" in names
    iam.delete_role(RoleName=f"fn-{unique}")
    assert error_of(lambda: iam.get_role(RoleName=f"fn-{unique}")) == (
        "NoSuchEntity", 404, f"The role with name fn-{unique} cannot be found.")


def test_role_names_are_unique_ignoring_case(iam: Any, unique: str) -> None:
    iam.create_role(RoleName=f"Dup-{unique}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    assert error_of(lambda: iam.create_role(RoleName=f"dup-{unique}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
                    ) == ("EntityAlreadyExists", 409, f"Role with name dup-{unique} already exists.")


@pytest.mark.parametrize(("document", "message"), [
    ("{not json", "This policy contains invalid Json"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
     "Missing required field Principal"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "x"},
                                                         "Action": "sts:AssumeRole", "Resource": "*"}]}),
     "Has prohibited field Resource"),
])
def test_a_malformed_trust_policy_is_refused(iam: Any, unique: str, document: str, message: str) -> None:
    assert error_of(lambda: iam.create_role(RoleName=f"bad-{unique}", AssumeRolePolicyDocument=document)) == (
        "MalformedPolicyDocument", 400, message)


def test_invalid_names_answer_a_validation_error(iam: Any) -> None:
    code, status, message = error_of(lambda: iam.create_role(RoleName="no spaces allowed",
                                                             AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)))
    assert (code, status) == ("ValidationError", 400)
    assert "failed to satisfy constraint: Member must satisfy regular expression pattern" in message


def test_aws_managed_and_customer_policies_attach_and_block_deletion(iam: Any, unique: str) -> None:
    role = f"attach-{unique}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    mine = iam.create_policy(PolicyName=f"read-{unique}", PolicyDocument=json.dumps(READ_QUEUES))["Policy"]
    assert mine["Arn"] == f"arn:aws:iam::000000000000:policy/read-{unique}" and mine["DefaultVersionId"] == "v1"
    iam.attach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    iam.attach_role_policy(RoleName=role, PolicyArn=mine["Arn"])
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert {p["PolicyName"] for p in attached} == {"AWSLambdaBasicExecutionRole", f"read-{unique}"}
    managed = iam.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]
    assert (managed["Path"], managed["AttachmentCount"] >= 1) == ("/service-role/", True)
    document = iam.get_policy_version(PolicyArn=BASIC_EXECUTION, VersionId=managed["DefaultVersionId"])
    assert document["PolicyVersion"]["Document"]["Statement"][0]["Action"] == [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    assert error_of(lambda: iam.delete_policy(PolicyArn=mine["Arn"]))[:2] == ("DeleteConflict", 409)
    assert error_of(lambda: iam.delete_role(RoleName=role)) == (
        "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    entities = iam.list_entities_for_policy(PolicyArn=mine["Arn"])
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    iam.detach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    iam.detach_role_policy(RoleName=role, PolicyArn=mine["Arn"])
    iam.delete_policy(PolicyArn=mine["Arn"])
    iam.delete_role(RoleName=role)


def test_attaching_a_policy_that_does_not_exist_is_refused(iam: Any, unique: str) -> None:
    iam.create_role(RoleName=f"none-{unique}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    arn = "arn:aws:iam::aws:policy/NoSuchPolicy"
    assert error_of(lambda: iam.attach_role_policy(RoleName=f"none-{unique}", PolicyArn=arn)) == (
        "NoSuchEntity", 404, f"Policy {arn} does not exist or is not attachable.")


def test_policy_versions_keep_five_and_one_default(iam: Any, unique: str) -> None:
    arn = iam.create_policy(PolicyName=f"ver-{unique}", PolicyDocument=json.dumps(READ_QUEUES))["Policy"]["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_QUEUES))
    assert error_of(lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_QUEUES)))[:2] == (
        "LimitExceeded", 409)
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False, False, False, False, True]
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    assert error_of(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v3")) == (
        "DeleteConflict", 409, "Cannot delete the default version of a policy.")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_QUEUES), SetAsDefault=True)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v6"


def test_an_identity_policy_may_not_name_a_principal(iam: Any, unique: str) -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*",
                                                        "Resource": "*"}]}
    assert error_of(lambda: iam.create_policy(PolicyName=f"p-{unique}", PolicyDocument=json.dumps(document))) == (
        "MalformedPolicyDocument", 400, "Policy document should not specify a principal.")


def test_inline_role_policies_are_put_read_listed_and_deleted(iam: Any, unique: str) -> None:
    role = f"inline-{unique}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    iam.put_role_policy(RoleName=role, PolicyName="queues", PolicyDocument=json.dumps(READ_QUEUES))
    got = iam.get_role_policy(RoleName=role, PolicyName="queues")
    assert (got["RoleName"], got["PolicyDocument"]) == (role, READ_QUEUES)
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["queues"]
    assert error_of(lambda: iam.delete_role(RoleName=role))[2] == "Cannot delete entity, must delete policies first."
    iam.delete_role_policy(RoleName=role, PolicyName="queues")
    assert error_of(lambda: iam.get_role_policy(RoleName=role, PolicyName="queues")) == (
        "NoSuchEntity", 404, "The role policy with name queues cannot be found.")
    iam.delete_role(RoleName=role)


def test_role_tags_and_updates(iam: Any, unique: str) -> None:
    role = f"tags-{unique}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    iam.tag_role(RoleName=role, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_role(RoleName=role, TagKeys=["a"])
    assert iam.list_role_tags(RoleName=role)["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.update_role(RoleName=role, Description="new", MaxSessionDuration=7200)
    new_trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(new_trust))
    got = iam.get_role(RoleName=role)["Role"]
    assert (got["Description"], got["MaxSessionDuration"], got["AssumeRolePolicyDocument"]) == ("new", 7200, new_trust)


def test_instance_profiles_hold_one_role(iam: Any, unique: str) -> None:
    role, profile = f"ec2-{unique}", f"profile-{unique}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    iam.create_role(RoleName=f"{role}-2", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    arn = iam.create_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Arn"]
    assert arn == f"arn:aws:iam::000000000000:instance-profile/{profile}"
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    assert error_of(lambda: iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=f"{role}-2"))[:2] == (
        "LimitExceeded", 409)
    assert [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]] == [
        role]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]] == [
        profile]
    assert error_of(lambda: iam.delete_role(RoleName=role))[2] == (
        "Cannot delete entity, must remove roles from instance profile first.")
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=profile)
    assert error_of(lambda: iam.get_instance_profile(InstanceProfileName=profile)) == (
        "NoSuchEntity", 404, f"Instance Profile {profile} cannot be found.")


def test_listing_pages_with_markers(iam: Any, unique: str) -> None:
    for i in range(5):
        iam.create_role(RoleName=f"page-{unique}-{i}", Path=f"/page{unique}/",
                        AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    first = iam.list_roles(PathPrefix=f"/page{unique}/", MaxItems=2)
    assert first["IsTruncated"] and len(first["Roles"]) == 2
    everything = iam.get_paginator("list_roles").paginate(PathPrefix=f"/page{unique}/",
                                                          PaginationConfig={"PageSize": 2}).build_full_result()
    assert [r["RoleName"] for r in everything["Roles"]] == [f"page-{unique}-{i}" for i in range(5)]
    assert any(p["PolicyName"] == "AdministratorAccess" for p in iam.list_policies(Scope="AWS")["Policies"])

"""Layers through boto3: version permissions and their RevisionId, numbering, and a function's layer list."""

from __future__ import annotations

import json
from typing import Any

from tests.lambda_.conftest import error_of, make_zip

CODE = "def handler(event, context):\n    return event\n"


def publish(lam: Any, name: str) -> dict[str, Any]:
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": make_zip({"python/lib.py": "X = 1\n"})})


def test_layer_version_permissions_keep_a_revision(lam: Any, unique: str) -> None:
    name = f"shared-{unique}"
    layer = publish(lam, name)
    assert error_of(lam.get_layer_version_policy, LayerName=name, VersionNumber=1)["Message"] == (
        "No policy is associated with the given resource.")
    added = lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1",
                                             Action="lambda:GetLayerVersion", Principal="*")
    assert json.loads(added["Statement"]) == {"Sid": "s1", "Effect": "Allow", "Principal": "*",
                                              "Action": "lambda:GetLayerVersion",
                                              "Resource": layer["LayerVersionArn"]}
    policy = lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert policy["RevisionId"] == added["RevisionId"]
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["s1"]
    duplicate = error_of(lam.add_layer_version_permission, LayerName=name, VersionNumber=1, StatementId="s1",
                         Action="lambda:GetLayerVersion", Principal="*")
    assert duplicate["Code"] == "ResourceConflictException"
    stale = error_of(lam.add_layer_version_permission, LayerName=name, VersionNumber=1, StatementId="s2",
                     Action="lambda:GetLayerVersion", Principal="*", RevisionId="wrong")
    assert stale == {"Code": "PreconditionFailedException", "Message": (
        "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to "
        "retrieve the latest Revision Id")}
    missing = error_of(lam.remove_layer_version_permission, LayerName=name, VersionNumber=1, StatementId="nope")
    assert missing["Message"] == "Statement nope is not found in resource policy."
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1",
                                        RevisionId=policy["RevisionId"])
    absent = error_of(lam.get_layer_version_policy, LayerName=name, VersionNumber=2)
    assert absent["Message"] == f"Layer version {layer['LayerArn']}:2 does not exist."


def test_layer_version_numbers_are_not_reused(lam: Any, unique: str) -> None:
    name = f"numbered-{unique}"
    publish(lam, name)
    publish(lam, name)
    for version in (1, 2):
        lam.delete_layer_version(LayerName=name, VersionNumber=version)
    assert publish(lam, name)["Version"] == 3
    assert error_of(lam.get_layer_version, LayerName=name, VersionNumber=0)["Message"] == (
        "Layer Version Cannot be less than 1")


def test_a_function_refuses_two_versions_of_one_layer_and_more_than_five(lam: Any, make_function: Any,
                                                                        unique: str) -> None:
    name = f"refs-{unique}"
    first, second = publish(lam, name)["LayerVersionArn"], publish(lam, name)["LayerVersionArn"]
    function = make_function(CODE)
    error = error_of(lam.update_function_configuration, FunctionName=function, Layers=[first, second])
    assert error["Message"] == ("Two different versions of the same layer are not allowed to be referenced in the "
                                f"same function. {first} and {second} are versions of the same layer.")
    assert error_of(lam.update_function_configuration, FunctionName=function, Layers=[first] * 6)["Message"] == (
        "Cannot reference more than 5 layers.")
    elsewhere = first.replace("us-east-1", "eu-west-1")
    assert error_of(lam.update_function_configuration, FunctionName=function, Layers=[elsewhere])["Message"] == (
        "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.")


def test_layer_validation_reports_lists_whole_and_runtimes_first(lam: Any, unique: str) -> None:
    error = error_of(lam.publish_layer_version, LayerName=f"bad-{unique}",
                     Content={"ZipFile": make_zip({"a.txt": "a"})},
                     CompatibleRuntimes=["invalidruntime", "nodejs20.x"], CompatibleArchitectures=["invalidarch"])
    assert error["Message"].startswith(
        "2 validation errors detected: Value '[invalidruntime, nodejs20.x]' at 'compatibleRuntimes' failed to satisfy "
        "constraint: Member must satisfy enum value set: [nodejs20.x, python3.14,")
    assert error["Message"].endswith(
        "; Value '[invalidarch]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
    listed = error_of(lam.list_layers, CompatibleRuntime="nothing")["Message"]
    assert listed.startswith("1 validation error detected: Value 'nothing' at 'compatibleRuntime' failed to satisfy "
                             "constraint: Member must satisfy enum value set: [ruby3.5, ruby2.6, dotnetcore1.0,")

"""Aliases, versions and Lambda's validation wording through boto3, as AWS records them."""

from __future__ import annotations

from typing import Any

from tests.lambda_.conftest import ROLE, error_response, make_zip

CODE = "def handler(event, context):\n    return event\n"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"


def two_versions(lam: Any, make_function: Any) -> str:
    name = make_function(CODE)
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Description="second")
    lam.publish_version(FunctionName=name)
    return name


def test_get_function_by_alias_names_the_alias_and_empty_weights_drop_the_routing(lam: Any,
                                                                                    make_function: Any) -> None:
    name = two_versions(lam, make_function)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    assert lam.get_function(FunctionName=f"{name}:live")["Configuration"]["FunctionArn"] == f"{ARN}:{name}:live"
    updated = lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in updated
    assert "RoutingConfig" not in lam.get_alias(FunctionName=name, Name="live")
    missing = error_response(lam.get_alias, FunctionName=name, Name="nothing")["Error"]["Message"]
    assert missing == f"Cannot find alias arn: {ARN}:{name}:nothing"


def test_routing_configs_are_refused_in_aws_words(lam: Any, make_function: Any) -> None:
    name = two_versions(lam, make_function)

    def refused(version: str, weights: dict[str, float]) -> dict[str, Any]:
        return error_response(lam.create_alias, FunctionName=name, Name="bad", FunctionVersion=version,
                              RoutingConfig={"AdditionalVersionWeights": weights})

    assert refused("1", {"1": 0.8, "2": 0.2})["Error"]["Message"] == (
        "Number of items in AdditionalVersionWeights cannot be greater than 1")
    assert refused("1", {"1": 0.5})["Error"]["Message"] == (
        "Invalid function version 1. Function version 1 is already included in routing configuration.")
    latest = refused("$LATEST", {"1": 0.5})
    assert latest["Error"]["Message"] == "$LATEST is not supported for an alias pointing to more than 1 version"
    assert "Type" not in latest
    assert refused("1", {"2": 2})["Error"]["Message"] == (
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy "
        "constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
        "must have value greater than or equal to 0.0, Member must not be null]")
    assert refused("1", {"$LATEST": 0.5})["Error"]["Message"] == (
        "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to "
        "satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
        "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]")
    unknown = error_response(lam.create_alias, FunctionName=f"{name}-unknown", Name="x", FunctionVersion="1")
    assert unknown["Error"]["Message"] == f"Function not found: {ARN}:{name}-unknown:1"


def test_revision_ids_and_code_hashes_guard_publishing_and_aliases(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    stale = error_response(lam.publish_version, FunctionName=name, RevisionId="wrong")
    assert stale["Error"] == {"Code": "PreconditionFailedException", "Message": (
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to "
        "retrieve the latest Revision Id")}
    sha = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    wrong = error_response(lam.publish_version, FunctionName=name, CodeSha256="other")["Error"]["Message"]
    assert wrong == (f"CodeSHA256 (other) is different from current CodeSHA256 in $LATEST ({sha}). Please try again "
                     "with the CodeSHA256 in $LATEST.")
    lam.publish_version(FunctionName=name, CodeSha256=sha)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert error_response(lam.update_alias, FunctionName=name, Name="live", RevisionId="wrong")["Error"]["Code"] == (
        "PreconditionFailedException")


def test_deleting_a_version_the_function_never_had_succeeds(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    lam.delete_function(FunctionName=name, Qualifier="1233")
    lam.delete_function(FunctionName=name)
    gone = error_response(lam.delete_function, FunctionName=name, Qualifier="1233")["Error"]["Message"]
    assert gone == f"Function not found: {ARN}:{name}"


def test_list_members_are_reported_at_the_list(lam: Any, unique: str) -> None:
    def create(**kwargs: Any) -> str:
        return str(error_response(lam.create_function, FunctionName=f"arch-{unique}", Runtime="python3.12", Role=ROLE,
                                  Handler="app.handler", Code={"ZipFile": make_zip({"app.py": CODE})},
                                  **kwargs)["Error"]["Message"])

    assert create(Architectures=["X86_64"]) == (
        "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must "
        "satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
    assert create(Architectures=["x86_64", "arm64"]) == (
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: "
        "Member must have length less than or equal to 1")


def test_publishing_gives_latest_a_new_revision(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    before = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    published = lam.publish_version(FunctionName=name, RevisionId=before)
    after = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    assert after not in (before, published["RevisionId"])
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["RevisionId"] == published["RevisionId"]


def test_account_usage_counts_every_version_and_layer(lam: Any, make_function: Any, unique: str) -> None:
    before = lam.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    name = make_function(CODE)
    size = lam.get_function(FunctionName=name)["Configuration"]["CodeSize"]
    lam.publish_version(FunctionName=name)
    layer = lam.publish_layer_version(LayerName=f"usage-{unique}", Content={"ZipFile": make_zip({"a.txt": "a"})})
    after = lam.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    assert after - before == 2 * size + layer["Content"]["CodeSize"]


def test_names_and_environments_have_aws_limits(lam: Any, unique: str) -> None:
    def create(name: str, **kwargs: Any) -> str:
        return str(error_response(lam.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE,
                                  Handler="app.handler", Code={"ZipFile": make_zip({"app.py": CODE})},
                                  **kwargs)["Error"]["Message"])

    assert create("a" * 65) == ("1 validation error detected: Value '" + "a" * 65 + "' at 'functionName' failed to "
                                "satisfy constraint: Member must have length less than or equal to 64")
    message = create(f"env-{unique}", Environment={"Variables": {"BIG": "x" * 4096}})
    assert message == ("Lambda was unable to configure your environment variables because the environment "
                       "variables you have provided exceeded the 4KB limit. String measured: "
                       '{"BIG":"' + "x" * 4096 + '"}')


def test_snap_start_is_kept_and_publishing_with_new_code_answers_the_pending_version(lam: Any,
                                                                                    make_function: Any) -> None:
    name = make_function(CODE)
    updated = lam.update_function_configuration(FunctionName=name, SnapStart={"ApplyOn": "PublishedVersions"})
    assert updated["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    published = lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": CODE + "\n"}), Publish=True)
    assert (published["Version"], published["State"], published["StateReasonCode"]) == ("1", "Pending", "Creating")
    assert "LastUpdateStatus" not in published
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["RevisionId"] == published["RevisionId"]


def test_no_function_is_created_in_another_account(lam: Any, unique: str) -> None:
    response = error_response(lam.create_function, FunctionName=f"arn:aws:lambda:us-east-1:123456789012:function:x-{unique}",
                              Runtime="python3.12", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": make_zip({"app.py": CODE})})
    assert response["Error"] == {"Code": "AccessDeniedException", "Message": None}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403

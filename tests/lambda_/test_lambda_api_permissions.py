"""AddPermission, GetPolicy and RemovePermission through boto3: AWS's refusals and revision checks."""

from __future__ import annotations

from typing import Any

from tests.lambda_.conftest import error_of

CODE = "def handler(event, context):\n    return event\n"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"


def grant(lam: Any, name: str, sid: str, **kwargs: Any) -> dict[str, Any]:
    return lam.add_permission(FunctionName=name, StatementId=sid, Action="lambda:InvokeFunction",
                              Principal="s3.amazonaws.com", **kwargs)


def test_permissions_are_refused_in_aws_words(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    assert error_of(grant, lam=lam, name=name, sid="a", Qualifier="$LATEST")["Message"] == (
        "We currently do not support adding policies for $LATEST.")
    principal = error_of(lam.add_permission, FunctionName=name, StatementId="a", Action="lambda:InvokeFunction",
                         Principal="invalid.nonaws.com")
    assert principal["Message"] == "The provided principal was invalid. Please check the principal and try again."
    assert error_of(grant, lam=lam, name=name, sid="a", Qualifier="nothing")["Message"] == (
        f"Cannot find alias arn: {ARN}:{name}:nothing")
    assert error_of(grant, lam=lam, name=name, sid="a", Qualifier="42")["Message"] == (
        f"Function not found: {ARN}:{name}:42")
    assert error_of(lam.get_policy, FunctionName="nothing-here")["Message"] == (
        "The resource you requested does not exist.")
    assert error_of(lam.remove_permission, FunctionName=name, StatementId="a")["Message"] == (
        "No policy is associated with the given resource.")
    assert error_of(lam.remove_permission, FunctionName="nothing-here", StatementId="a")["Message"] == (
        f"No policy found for: {ARN}:nothing-here")
    grant(lam, name, "a")
    assert error_of(lam.remove_permission, FunctionName=name, StatementId="b")["Message"] == (
        "Statement b is not found in resource policy.")


def test_a_revision_id_guards_adding_a_permission(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    lam.publish_version(FunctionName=name)
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    stale = error_of(grant, lam=lam, name=name, sid="a", Qualifier="live", RevisionId="wrong")
    assert stale["Code"] == "PreconditionFailedException"
    assert stale["Message"] == ("The Revision Id provided does not match the latest Revision Id. Call the GetPolicy "
                                "API to retrieve the latest Revision Id")
    grant(lam, name, "a", Qualifier="live", RevisionId=alias["RevisionId"])
    grant(lam, name, "b")
    policy = lam.get_policy(FunctionName=name)
    grant(lam, name, "c", RevisionId=policy["RevisionId"])
    assert lam.get_policy(FunctionName=name)["RevisionId"] != policy["RevisionId"]

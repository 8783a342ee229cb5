"""Tags by resource ARN through boto3: functions, event source mappings, and AWS's refusals per kind."""

from __future__ import annotations

from typing import Any

from tests.lambda_.conftest import ROLE, error_of, make_zip, queue_arn

CODE = "def handler(event, context):\n    return event\n"
ACCOUNT_ARN = "arn:aws:lambda:us-east-1:000000000000"


def test_tagging_a_function_changes_its_revision_and_caps_the_count(lam: Any, make_function: Any) -> None:
    name = make_function(CODE, Tags={"a": "1"})
    arn = f"{ACCOUNT_ARN}:function:{name}"
    before = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    lam.tag_resource(Resource=arn, Tags={"b": "2"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1", "b": "2"}
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] != before
    too_many = error_of(lam.tag_resource, Resource=arn, Tags={f"k{i}": "v" for i in range(49)})
    assert too_many == {"Code": "InvalidParameterValueException",
                        "Message": "Number of tags exceeds resource tag limit."}
    assert error_of(lam.tag_resource, Resource=arn, Tags={})["Message"] == (
        "An error occurred and the request cannot be processed.")
    lam.untag_resource(Resource=arn, TagKeys=["a", "missing"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}


def test_versions_and_aliases_take_no_tags(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    for resource in (f"{ACCOUNT_ARN}:function:{name}:$LATEST", f"{ACCOUNT_ARN}:function:{name}:1"):
        error = error_of(lam.list_tags, Resource=resource)
        assert error["Code"] == "InvalidParameterValueException"
        assert error["Message"] == ("Tags on function aliases and versions are not supported. "
                                    "Please specify a function ARN.")


def test_too_many_tags_on_create_function_are_refused(lam: Any, unique: str) -> None:
    error = error_of(lam.create_function, FunctionName=f"many-tags-{unique}", Runtime="python3.12", Role=ROLE,
                     Handler="app.handler", Code={"ZipFile": make_zip({"app.py": CODE})},
                     Tags={f"k{i}": "v" for i in range(51)})
    assert error["Message"] == "Number of tags exceeds resource tag limit."


def test_event_source_mappings_are_tagged_by_arn(server: Any, lam: Any, make_function: Any, unique: str) -> None:
    _, arn = queue_arn(server, f"tagged-{unique}")
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=make_function(CODE),
                                              Tags={"team": "core"})
    arn = mapping["EventSourceMappingArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "core"}
    lam.tag_resource(Resource=arn, Tags={"stage": "dev"})
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"stage": "dev"}
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    error = error_of(lam.list_tags, Resource=arn)
    assert error == {"Code": "ResourceNotFoundException", "Message": f"Event source mapping not found: {arn}"}


def test_missing_resources_are_named_by_kind_and_bad_arns_get_the_pattern(lam: Any) -> None:
    provider = f"{ACCOUNT_ARN}:capacity-provider:nothing"
    assert error_of(lam.tag_resource, Resource=provider, Tags={"a": "b"})["Message"] == (
        f"Capacity provider not found: {provider}")
    bad = f"{ACCOUNT_ARN}:foobar:nothing"
    error = error_of(lam.list_tags, Resource=bad)
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith(f"1 validation error detected: Value '{bad}' at 'resource' failed to satisfy "
                                       "constraint: Member must satisfy regular expression pattern: arn:")
    assert error["Message"].endswith("|capacity-provider:[a-zA-Z0-9-_]+)")
    esm_alias = f"{ACCOUNT_ARN}:event-source-mapping:12345678-1234-1234-1234-123456789012:alias"
    assert error_of(lam.list_tags, Resource=esm_alias)["Code"] == "ValidationException"

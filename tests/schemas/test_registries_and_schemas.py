"""Registries, schemas and versions, search, export and resource policies with boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

ORDER = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "title": "Order",
         "properties": {"id": {"type": "string"}, "total": {"type": "number"}}, "required": ["id"]}


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return error.value.response["Error"]["Code"], error.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_every_account_has_the_aws_managed_registries(schemas: Any) -> None:
    names = {r["RegistryName"] for r in schemas.list_registries()["Registries"]}
    assert {"aws.events", "discovered-schemas"} <= names
    aws = [r["RegistryName"] for r in schemas.list_registries(Scope="AWS")["Registries"]]
    assert aws == ["aws.events"]
    found = schemas.search_schemas(RegistryName="aws.events", Keywords="aws.states")["Schemas"]
    assert [s["SchemaName"] for s in found] == ["aws.states@StepFunctionsExecutionStatusChange"]
    with pytest.raises(ClientError) as managed:
        schemas.delete_registry(RegistryName="discovered-schemas")
    assert _code(managed)[0] == "BadRequestException"


def test_a_registry_is_created_described_updated_listed_and_deleted(schemas: Any, unique: str) -> None:
    name = f"reg-{unique}"
    created = schemas.create_registry(RegistryName=name, Description="orders", Tags={"team": "a"})
    assert created["RegistryArn"] == f"arn:aws:schemas:us-east-1:000000000000:registry/{name}"
    assert schemas.describe_registry(RegistryName=name)["Description"] == "orders"
    assert schemas.update_registry(RegistryName=name, Description="new")["Description"] == "new"
    assert [r["RegistryName"] for r in schemas.list_registries(RegistryNamePrefix=name)["Registries"]] == [name]
    with pytest.raises(ClientError) as twice:
        schemas.create_registry(RegistryName=name)
    assert _code(twice) == ("ConflictException", 409)
    schemas.delete_registry(RegistryName=name)
    with pytest.raises(ClientError) as gone:
        schemas.describe_registry(RegistryName=name)
    assert _code(gone) == ("NotFoundException", 404)
    assert gone.value.response["Error"]["Message"] == f"Registry with name {name} does not exist."


def test_schemas_get_a_new_version_when_their_content_changes(schemas: Any, unique: str) -> None:
    registry = f"reg-{unique}"
    schemas.create_registry(RegistryName=registry)
    first = schemas.create_schema(RegistryName=registry, SchemaName="shop@Order", Type="JSONSchemaDraft4",
                                  Content=json.dumps(ORDER), Description="orders", Tags={"k": "v"})
    assert first["SchemaVersion"] == "1"
    wider = dict(ORDER, properties={**ORDER["properties"], "currency": {"type": "string"}})
    second = schemas.update_schema(RegistryName=registry, SchemaName="shop@Order", Type="JSONSchemaDraft4",
                                   Content=json.dumps(wider))
    assert second["SchemaVersion"] == "2"
    same = schemas.update_schema(RegistryName=registry, SchemaName="shop@Order", Content=json.dumps(wider))
    assert same["SchemaVersion"] == "2"  # the same content is no new version
    versions = schemas.list_schema_versions(RegistryName=registry, SchemaName="shop@Order")["SchemaVersions"]
    assert [v["SchemaVersion"] for v in versions] == ["1", "2"]
    old = schemas.describe_schema(RegistryName=registry, SchemaName="shop@Order", SchemaVersion="1")
    assert json.loads(old["Content"]) == ORDER and old["Description"] == "orders"
    listed = schemas.list_schemas(RegistryName=registry)["Schemas"]
    assert [(s["SchemaName"], s["VersionCount"]) for s in listed] == [("shop@Order", 2)]
    assert schemas.search_schemas(RegistryName=registry, Keywords="currency")["Schemas"][0]["SchemaName"] == "shop@Order"
    assert schemas.search_schemas(RegistryName=registry, Keywords="nothing-like-it")["Schemas"] == []
    schemas.delete_schema_version(RegistryName=registry, SchemaName="shop@Order", SchemaVersion="1")
    with pytest.raises(ClientError) as deleted:
        schemas.describe_schema(RegistryName=registry, SchemaName="shop@Order", SchemaVersion="1")
    assert _code(deleted) == ("NotFoundException", 404)
    schemas.delete_schema(RegistryName=registry, SchemaName="shop@Order")
    assert schemas.list_schemas(RegistryName=registry)["Schemas"] == []


def test_bad_content_is_refused(schemas: Any, unique: str) -> None:
    registry = f"reg-{unique}"
    schemas.create_registry(RegistryName=registry)
    for kind, content in (("JSONSchemaDraft4", "not json"), ("OpenApi3", json.dumps({"openapi": "2.0"})),
                          ("JSONSchemaDraft4", json.dumps({"type": 12}))):
        with pytest.raises(ClientError) as bad:
            schemas.create_schema(RegistryName=registry, SchemaName="s", Type=kind, Content=content)
        assert _code(bad) == ("BadRequestException", 400)


def test_an_openapi_schema_exports_as_json_schema_draft_4(schemas: Any, unique: str) -> None:
    registry = f"reg-{unique}"
    schemas.create_registry(RegistryName=registry)
    document = {"openapi": "3.0.0", "info": {"title": "Order", "version": "1.0.0"}, "paths": {},
                "components": {"schemas": {
                    "AWSEvent": {"type": "object", "x-amazon-events-source": "shop", "x-amazon-events-detail-type": "Order",
                                 "properties": {"detail": {"$ref": "#/components/schemas/Order"}}},
                    "Order": {"type": "object", "properties": {"id": {"type": "string"}}}}}}
    schemas.create_schema(RegistryName=registry, SchemaName="shop@Order", Type="OpenApi3", Content=json.dumps(document))
    exported = schemas.export_schema(RegistryName=registry, SchemaName="shop@Order", Type="JSONSchemaDraft4")
    content = json.loads(exported["Content"])
    assert exported["Type"] == "JSONSchemaDraft4" and exported["SchemaVersion"] == "1"
    assert content["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert content["properties"]["detail"] == {"$ref": "#/definitions/Order"}
    assert content["definitions"]["Order"]["properties"]["id"] == {"type": "string"}


def test_resource_policies_are_put_read_revised_and_deleted(schemas: Any, unique: str) -> None:
    registry = f"reg-{unique}"
    schemas.create_registry(RegistryName=registry)
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "read", "Effect": "Allow", "Principal": "*",
                                                       "Action": "schemas:DescribeSchema", "Resource": "*"}]}
    put = schemas.put_resource_policy(RegistryName=registry, Policy=json.dumps(policy))
    got = schemas.get_resource_policy(RegistryName=registry)
    assert json.loads(got["Policy"]) == policy and got["RevisionId"] == put["RevisionId"]
    with pytest.raises(ClientError) as stale:
        schemas.put_resource_policy(RegistryName=registry, Policy=json.dumps(policy), RevisionId="old")
    assert _code(stale) == ("PreconditionFailedException", 412)
    schemas.put_resource_policy(RegistryName=registry, Policy=json.dumps(policy), RevisionId=put["RevisionId"])
    schemas.delete_resource_policy(RegistryName=registry)
    with pytest.raises(ClientError) as none:
        schemas.get_resource_policy(RegistryName=registry)
    assert _code(none) == ("NotFoundException", 404)


def test_tags_on_registries_and_schemas(schemas: Any, unique: str) -> None:
    registry = f"reg-{unique}"
    arn = schemas.create_registry(RegistryName=registry)["RegistryArn"]
    schemas.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    schemas.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert schemas.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"b": "2"}
    schema_arn = schemas.create_schema(RegistryName=registry, SchemaName="s", Type="JSONSchemaDraft4",
                                       Content=json.dumps(ORDER))["SchemaArn"]
    schemas.tag_resource(ResourceArn=schema_arn, Tags={"c": "3"})
    assert schemas.list_tags_for_resource(ResourceArn=schema_arn)["Tags"] == {"c": "3"}


def test_get_discovered_schema_infers_from_sample_events(schemas: Any) -> None:
    sample = {"version": "0", "id": "1", "detail-type": "Order Placed", "source": "shop", "account": "1",
              "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
              "detail": {"id": "o-1", "items": [{"sku": "a", "qty": 2}]}}
    answer = json.loads(schemas.get_discovered_schema(Events=[json.dumps(sample)], Type="OpenApi3")["Content"])
    components = answer["components"]["schemas"]
    assert components["AWSEvent"]["x-amazon-events-source"] == "shop"
    assert components["AWSEvent"]["properties"]["detail"] == {"$ref": "#/components/schemas/OrderPlaced"}
    assert components["OrderPlaced"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Items"}
    assert components["Items"]["properties"] == {"qty": {"type": "number"}, "sku": {"type": "string"}}

"""The Schema Registry in storage: registries (with their resource policies), schemas with numbered
versions, discoverers and generated code bindings.

Every account and region has AWS's managed registries: `aws.events` (scope AWS, the schemas of the
events AWS services emit) and `discovered-schemas` (scope LOCAL, where discoverers write); they
appear on first use and cannot be deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.services.schemas.errors import (
    bad_request,
    conflict,
    registry_not_found,
    schema_not_found,
    version_not_found,
)
from eventyard.services.schemas.inference import DISCOVERED_REGISTRY
from eventyard.services.schemas.managed import AWS_EVENT_SCHEMAS
from eventyard.storage import Connection

AWS_REGISTRY = "aws.events"
MANAGED = {AWS_REGISTRY: "AWS", DISCOVERED_REGISTRY: "LOCAL"}
MANAGED_DESCRIPTIONS = {AWS_REGISTRY: "Schemas for events emitted by AWS services.",
                        DISCOVERED_REGISTRY: "Schemas discovered from events on your event buses."}


@dataclass
class Registry:
    arn: str
    account: str
    region: str
    name: str
    description: str | None
    scope: str
    tags: dict[str, str]
    policy: str | None
    policy_revision: str | None


@dataclass
class Schema:
    arn: str
    registry_arn: str
    registry: str
    name: str
    description: str | None
    type: str
    tags: dict[str, str]
    last_modified: float


def registry_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:schemas:{region}:{account}:registry/{name}"


def schema_arn(account: str, region: str, registry: str, name: str) -> str:
    return f"arn:aws:schemas:{region}:{account}:schema/{registry}/{name}"


def ensure_managed(conn: Connection, account: str, region: str, now: float) -> None:
    for name, scope in MANAGED.items():
        arn = registry_arn(account, region, name)
        if conn.execute("SELECT 1 FROM schemas_registries WHERE arn = ?", (arn,)).fetchone() is not None:
            continue
        conn.execute("INSERT INTO schemas_registries (arn, account_id, region, name, description, scope, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO NOTHING",
                     (arn, account, region, name, MANAGED_DESCRIPTIONS[name], scope, now))
        if name == AWS_REGISTRY:
            for schema, content in AWS_EVENT_SCHEMAS.items():
                put_schema(conn, account, region, name, schema, "OpenApi3", json.dumps(content), None, {}, now)


def _registry(row: Any) -> Registry:
    return Registry(row["arn"], row["account_id"], row["region"], row["name"], row["description"], row["scope"],
                    json.loads(row["tags"]), row["policy"], row["policy_revision"])


def find_registry(conn: Connection, account: str, region: str, name: str) -> Registry | None:
    row = conn.execute("SELECT * FROM schemas_registries WHERE account_id = ? AND region = ? AND name = ?",
                       (account, region, name)).fetchone()
    return _registry(row) if row else None


def get_registry(conn: Connection, account: str, region: str, name: str) -> Registry:
    found = find_registry(conn, account, region, name)
    if found is None:
        raise registry_not_found(name)
    return found


def list_registries(conn: Connection, account: str, region: str) -> list[Registry]:
    rows = conn.execute("SELECT * FROM schemas_registries WHERE account_id = ? AND region = ? ORDER BY name",
                        (account, region)).fetchall()
    return [_registry(r) for r in rows]


def all_registries(conn: Connection) -> list[Registry]:
    return [_registry(r) for r in conn.execute("SELECT * FROM schemas_registries").fetchall()]


def create_registry(conn: Connection, account: str, region: str, name: str, description: str | None,
                    tags: dict[str, str], now: float) -> Registry:
    if find_registry(conn, account, region, name) is not None:
        raise conflict(f"Registry with name {name} already exists.")
    arn = registry_arn(account, region, name)
    conn.execute("INSERT INTO schemas_registries (arn, account_id, region, name, description, tags, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", (arn, account, region, name, description, json.dumps(tags), now))
    return get_registry(conn, account, region, name)


def update_registry(conn: Connection, registry: Registry, description: str | None) -> None:
    conn.execute("UPDATE schemas_registries SET description = ? WHERE arn = ?", (description, registry.arn))


def delete_registry(conn: Connection, registry: Registry) -> None:
    if registry.name in MANAGED:
        raise bad_request(f"Registry {registry.name} is managed by AWS and cannot be deleted.")
    for row in conn.execute("SELECT arn FROM schemas_schemas WHERE registry_arn = ?", (registry.arn,)).fetchall():
        _delete_schema_rows(conn, row[0])
    conn.execute("DELETE FROM schemas_registries WHERE arn = ?", (registry.arn,))


def set_policy(conn: Connection, registry: Registry, policy: str | None, revision: str | None) -> None:
    conn.execute("UPDATE schemas_registries SET policy = ?, policy_revision = ? WHERE arn = ?",
                 (policy, revision, registry.arn))


# -- schemas and versions -------------------------------------------------------------------
def _schema(row: Any) -> Schema:
    registry = row["registry_arn"].rsplit("/", 1)[1]
    return Schema(row["arn"], row["registry_arn"], registry, row["name"], row["description"], row["type"],
                  json.loads(row["tags"]), row["last_modified"])


def find_schema(conn: Connection, registry: Registry, name: str) -> Schema | None:
    row = conn.execute("SELECT * FROM schemas_schemas WHERE registry_arn = ? AND name = ?",
                       (registry.arn, name)).fetchone()
    return _schema(row) if row else None


def get_schema(conn: Connection, registry: Registry, name: str) -> Schema:
    found = find_schema(conn, registry, name)
    if found is None:
        raise schema_not_found(name)
    return found


def list_schemas(conn: Connection, registry: Registry) -> list[Schema]:
    rows = conn.execute("SELECT * FROM schemas_schemas WHERE registry_arn = ? ORDER BY name",
                        (registry.arn,)).fetchall()
    return [_schema(r) for r in rows]


def put_schema(conn: Connection, account: str, region: str, registry: str, name: str, kind: str, content: str,
               description: str | None, tags: dict[str, str], now: float) -> int:
    """Create the schema (version 1) or add a version to it; returns the new version number."""
    arn = schema_arn(account, region, registry, name)
    existing = conn.execute("SELECT 1 FROM schemas_schemas WHERE arn = ?", (arn,)).fetchone()
    if existing is None:
        conn.execute("INSERT INTO schemas_schemas (arn, registry_arn, name, description, type, tags, last_modified)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", (arn, registry_arn(account, region, registry), name, description,
                                                       kind, json.dumps(tags), now))
    else:
        conn.execute("UPDATE schemas_schemas SET type = ?, last_modified = ? WHERE arn = ?", (kind, now, arn))
    row = conn.execute("SELECT MAX(version) FROM schemas_versions WHERE schema_arn = ?", (arn,)).fetchone()
    version = int(row[0] or 0) + 1
    conn.execute("INSERT INTO schemas_versions (schema_arn, version, type, content, created_at) VALUES (?, ?, ?, ?, ?)",
                 (arn, version, kind, content, now))
    return version


def set_schema_description(conn: Connection, schema: Schema, description: str, now: float) -> None:
    conn.execute("UPDATE schemas_schemas SET description = ?, last_modified = ? WHERE arn = ?",
                 (description, now, schema.arn))


def versions(conn: Connection, schema: Schema) -> list[Any]:
    return conn.execute("SELECT version, type, content, created_at FROM schemas_versions WHERE schema_arn = ?"
                        " ORDER BY version", (schema.arn,)).fetchall()


def version(conn: Connection, schema: Schema, number: str | None) -> Any:
    """A version's row (the latest when `number` is None)."""
    if number is None:
        row = conn.execute("SELECT version, type, content, created_at FROM schemas_versions WHERE schema_arn = ?"
                           " ORDER BY version DESC LIMIT 1", (schema.arn,)).fetchone()
    else:
        if not number.isdigit():
            raise version_not_found(schema.name, number)
        row = conn.execute("SELECT version, type, content, created_at FROM schemas_versions WHERE schema_arn = ?"
                           " AND version = ?", (schema.arn, int(number))).fetchone()
    if row is None:
        raise version_not_found(schema.name, number or "latest")
    return row


def delete_version(conn: Connection, schema: Schema, number: str) -> None:
    row = version(conn, schema, number)
    conn.execute("DELETE FROM schemas_versions WHERE schema_arn = ? AND version = ?", (schema.arn, row["version"]))
    conn.execute("DELETE FROM schemas_code_bindings WHERE schema_arn = ? AND version = ?", (schema.arn, row["version"]))
    if conn.execute("SELECT 1 FROM schemas_versions WHERE schema_arn = ? LIMIT 1", (schema.arn,)).fetchone() is None:
        _delete_schema_rows(conn, schema.arn)


def delete_schema(conn: Connection, schema: Schema) -> None:
    _delete_schema_rows(conn, schema.arn)


def _delete_schema_rows(conn: Connection, arn: str) -> None:
    conn.execute("DELETE FROM schemas_versions WHERE schema_arn = ?", (arn,))
    conn.execute("DELETE FROM schemas_code_bindings WHERE schema_arn = ?", (arn,))
    conn.execute("DELETE FROM schemas_schemas WHERE arn = ?", (arn,))


# -- tags -------------------------------------------------------------------------------------
TAGGED_TABLES = {"registry": ("schemas_registries", "arn"), "schema": ("schemas_schemas", "arn"),
                 "discoverer": ("schemas_discoverers", "arn")}


def tags_of(conn: Connection, arn: str) -> dict[str, str] | None:
    kind = arn.split(":", 5)[-1].split("/", 1)[0]
    table = TAGGED_TABLES.get(kind)
    if table is None:
        return None
    row = conn.execute(f"SELECT tags FROM {table[0]} WHERE {table[1]} = ?", (arn,)).fetchone()
    return json.loads(row[0]) if row else None


def set_tags(conn: Connection, arn: str, tags: dict[str, str]) -> None:
    table = TAGGED_TABLES[arn.split(":", 5)[-1].split("/", 1)[0]]
    conn.execute(f"UPDATE {table[0]} SET tags = ? WHERE {table[1]} = ?", (json.dumps(tags), arn))

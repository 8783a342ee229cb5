"""Schema Registry tables: registries, schemas and their versions, discoverers, code bindings."""

from __future__ import annotations

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "schemas-0001-initial",
        """
        CREATE TABLE schemas_registries (
            arn TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            scope TEXT NOT NULL DEFAULT 'LOCAL',
            tags TEXT NOT NULL DEFAULT '{}',
            policy TEXT,
            policy_revision TEXT,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE UNIQUE INDEX schemas_registries_name ON schemas_registries (account_id, region, name);
        CREATE TABLE schemas_schemas (
            arn TEXT PRIMARY KEY,
            registry_arn TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            type TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}',
            last_modified DOUBLE PRECISION NOT NULL
        );
        CREATE UNIQUE INDEX schemas_schemas_name ON schemas_schemas (registry_arn, name);
        CREATE TABLE schemas_versions (
            schema_arn TEXT NOT NULL,
            version BIGINT NOT NULL,
            type TEXT NOT NULL,
            content TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (schema_arn, version)
        );
        CREATE TABLE schemas_discoverers (
            id TEXT NOT NULL,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            arn TEXT NOT NULL,
            source_arn TEXT NOT NULL,
            description TEXT,
            state TEXT NOT NULL,
            cross_account BIGINT NOT NULL DEFAULT 1,
            tags TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (account_id, region, id)
        );
        CREATE TABLE schemas_code_bindings (
            schema_arn TEXT NOT NULL,
            version BIGINT NOT NULL,
            language TEXT NOT NULL,
            status TEXT NOT NULL,
            source BYTEA,
            created_at DOUBLE PRECISION NOT NULL,
            modified_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (schema_arn, version, language)
        )
        """,
    )
]

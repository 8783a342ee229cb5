"""IAM tables. Roles, users, groups and instance profiles share one table of named entities (their
names are unique per account and kind, ignoring case, as IAM's are); policies, their versions,
attachments, inline policies, group members and access keys have their own."""

from __future__ import annotations

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "iam-0001-initial",
        """
        CREATE TABLE iam_entities (
            account_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            name_key TEXT NOT NULL,
            name TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            path TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            trust_policy TEXT,
            description TEXT,
            max_session_duration BIGINT,
            permissions_boundary TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (account_id, kind, name_key)
        );
        CREATE TABLE iam_inline_policies (
            account_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            name_key TEXT NOT NULL,
            policy_name TEXT NOT NULL,
            document TEXT NOT NULL,
            PRIMARY KEY (account_id, kind, name_key, policy_name)
        );
        CREATE TABLE iam_attachments (
            account_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            name_key TEXT NOT NULL,
            policy_arn TEXT NOT NULL,
            PRIMARY KEY (account_id, kind, name_key, policy_arn)
        );
        CREATE TABLE iam_memberships (
            account_id TEXT NOT NULL,
            container_kind TEXT NOT NULL,
            container_key TEXT NOT NULL,
            member_key TEXT NOT NULL,
            PRIMARY KEY (account_id, container_kind, container_key, member_key)
        );
        CREATE TABLE iam_policies (
            account_id TEXT NOT NULL,
            arn TEXT NOT NULL,
            name_key TEXT NOT NULL,
            name TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            path TEXT NOT NULL,
            description TEXT,
            default_version TEXT NOT NULL,
            next_version BIGINT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (account_id, arn)
        );
        CREATE TABLE iam_policy_versions (
            account_id TEXT NOT NULL,
            arn TEXT NOT NULL,
            version_id TEXT NOT NULL,
            document TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account_id, arn, version_id)
        );
        CREATE TABLE iam_access_keys (
            access_key_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            user_key TEXT NOT NULL,
            secret_access_key TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX iam_access_keys_user ON iam_access_keys (account_id, user_key);
        """,
    ),
]

"""STS's temporary credentials: one row per issued access key, kept until it expires."""

from __future__ import annotations

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "sts-0001-initial",
        """
        CREATE TABLE sts_sessions (
            access_key_id TEXT PRIMARY KEY,
            secret_access_key TEXT NOT NULL,
            session_token TEXT NOT NULL,
            account_id TEXT NOT NULL,
            principal_arn TEXT NOT NULL,
            user_id TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX sts_sessions_expiry ON sts_sessions (expires_at);
        """,
    ),
]

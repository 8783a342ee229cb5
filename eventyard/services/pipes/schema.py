"""The pipes table: each pipe's description, tags, and its source checkpoint document."""

from __future__ import annotations

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "pipes-0001-initial",
        """
        CREATE TABLE pipes (
            arn TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}',
            positions TEXT NOT NULL DEFAULT '{}',
            generation BIGINT NOT NULL DEFAULT 0,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE UNIQUE INDEX pipes_owner_name ON pipes (account_id, region, name)
        """,
    )
]

"""EventBridge's tables. Buses, rules (with their targets), archives, replays, connections and API
destinations are small JSON documents keyed by (kind, account, region, name): they are read whole
and rewritten whole, so one table serves them all. Archived events get their own table because
replays scan them by time."""

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "events-0001-initial",
        """
        CREATE TABLE events_resources (
            kind TEXT NOT NULL,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (kind, account_id, region, name)
        );
        CREATE TABLE events_tags (
            arn TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (arn, key)
        );
        CREATE TABLE events_archived (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            archive_arn TEXT NOT NULL,
            event_time REAL NOT NULL,
            ingested_at REAL NOT NULL,
            size INTEGER NOT NULL,
            event TEXT NOT NULL
        );
        CREATE INDEX events_archived_time ON events_archived (archive_arn, event_time, seq)
        """,
    )
]

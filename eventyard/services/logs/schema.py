"""Log groups, streams and events. Events are ordered by (timestamp, id) inside a stream."""

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "logs-0001-initial",
        """
        CREATE TABLE logs_groups (
            id INTEGER PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            created_at REAL NOT NULL,
            retention_days INTEGER,
            tags TEXT NOT NULL DEFAULT '{}',
            UNIQUE (account_id, region, name)
        );
        CREATE TABLE logs_streams (
            id INTEGER PRIMARY KEY,
            group_id INTEGER NOT NULL REFERENCES logs_groups(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            created_at REAL NOT NULL,
            first_event_at INTEGER,
            last_event_at INTEGER,
            last_ingestion_at INTEGER,
            stored_bytes INTEGER NOT NULL DEFAULT 0,
            UNIQUE (group_id, name)
        );
        CREATE TABLE logs_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            stream_id INTEGER NOT NULL REFERENCES logs_streams(id) ON DELETE CASCADE,
            timestamp INTEGER NOT NULL,
            ingestion_time INTEGER NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX logs_events_stream ON logs_events (stream_id, timestamp, id)
        """,
    )
]

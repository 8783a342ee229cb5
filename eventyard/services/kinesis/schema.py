"""Kinesis's tables. A record's place in its shard is one integer (`position`): a read is one range scan.

Hash keys are 128-bit, wider than SQLite integers, so shard ranges are stored as decimal text and
compared in Python (a stream has few shards; they are loaded whole).
"""

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "kinesis-0001-initial",
        """
        CREATE TABLE kinesis_streams (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            arn TEXT NOT NULL,
            status TEXT NOT NULL,
            status_due REAL,
            mode TEXT NOT NULL,
            retention_hours INTEGER NOT NULL DEFAULT 24,
            encryption_type TEXT NOT NULL DEFAULT 'NONE',
            key_id TEXT,
            shard_level_metrics TEXT NOT NULL DEFAULT '[]',
            tags TEXT NOT NULL DEFAULT '{}',
            max_record_size_kib INTEGER NOT NULL DEFAULT 1024,
            resource_policy TEXT,
            next_shard_index INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            UNIQUE (account_id, region, name)
        );
        CREATE TABLE kinesis_shards (
            id INTEGER PRIMARY KEY,
            stream_id INTEGER NOT NULL REFERENCES kinesis_streams(id) ON DELETE CASCADE,
            shard_index INTEGER NOT NULL,
            parent_index INTEGER,
            adjacent_parent_index INTEGER,
            starting_hash TEXT NOT NULL,
            ending_hash TEXT NOT NULL,
            next_position INTEGER NOT NULL DEFAULT 1,  -- position 0 is the shard's StartingSequenceNumber
            created_at REAL NOT NULL,
            closed_at REAL,
            UNIQUE (stream_id, shard_index)
        );
        CREATE TABLE kinesis_records (
            shard_id INTEGER NOT NULL REFERENCES kinesis_shards(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            partition_key TEXT NOT NULL,
            data BLOB NOT NULL,
            arrival REAL NOT NULL,
            PRIMARY KEY (shard_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX kinesis_records_arrival ON kinesis_records (shard_id, arrival);
        CREATE TABLE kinesis_consumers (
            id INTEGER PRIMARY KEY,
            stream_id INTEGER NOT NULL REFERENCES kinesis_streams(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            arn TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            status_due REAL,
            tags TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            UNIQUE (stream_id, name)
        )
        """,
    )
]

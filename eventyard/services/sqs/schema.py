"""SQS's tables. A message's visibility is one column (`available_at`): a claim is one UPDATE."""

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "sqs-0001-initial",
        """
        CREATE TABLE sqs_queues (
            id INTEGER PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            fifo INTEGER NOT NULL,
            attributes TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            modified_at REAL NOT NULL,
            last_purge_at REAL,
            next_sequence INTEGER NOT NULL DEFAULT 1,
            UNIQUE (account_id, region, name)
        );
        CREATE TABLE sqs_deleted_queues (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            deleted_at REAL NOT NULL,
            PRIMARY KEY (account_id, region, name)
        );
        CREATE TABLE sqs_messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            queue_id INTEGER NOT NULL REFERENCES sqs_queues(id) ON DELETE CASCADE,
            message_id TEXT NOT NULL,
            body TEXT NOT NULL,
            body_md5 TEXT NOT NULL,
            attributes TEXT,
            system_attributes TEXT,
            sent_at REAL NOT NULL,
            available_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            receive_count INTEGER NOT NULL DEFAULT 0,
            first_received_at REAL,
            receipt_token TEXT,
            group_id TEXT,
            dedup_id TEXT,
            sequence_number TEXT,
            sender_id TEXT NOT NULL,
            dead_letter_source_arn TEXT
        );
        CREATE INDEX sqs_messages_ready ON sqs_messages (queue_id, available_at, seq);
        CREATE INDEX sqs_messages_group ON sqs_messages (queue_id, group_id, seq);
        CREATE INDEX sqs_messages_expiry ON sqs_messages (expires_at);
        CREATE TABLE sqs_dedup (
            queue_id INTEGER NOT NULL REFERENCES sqs_queues(id) ON DELETE CASCADE,
            dedup_key TEXT NOT NULL,
            message_id TEXT NOT NULL,
            sequence_number TEXT,
            expires_at REAL NOT NULL,
            PRIMARY KEY (queue_id, dedup_key)
        );
        CREATE TABLE sqs_receive_attempts (
            queue_id INTEGER NOT NULL REFERENCES sqs_queues(id) ON DELETE CASCADE,
            attempt_id TEXT NOT NULL,
            handles TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (queue_id, attempt_id)
        );
        CREATE TABLE sqs_move_tasks (
            task_handle TEXT PRIMARY KEY,
            source_arn TEXT NOT NULL,
            destination_arn TEXT,
            max_per_second INTEGER,
            status TEXT NOT NULL,
            moved INTEGER NOT NULL DEFAULT 0,
            to_move INTEGER NOT NULL,
            started_at REAL NOT NULL,
            failure_reason TEXT,
            last_moved_at REAL
        )
        """,
    )
]

"""SNS tables: topics, subscriptions, and the outbox of messages and their pending deliveries.

A publish writes one `sns_messages` row and one `sns_deliveries` row per matching subscription in
the same transaction as their timers, so an acknowledged publish survives a crash.
"""

from __future__ import annotations

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "sns-0001-initial",
        """
        CREATE TABLE sns_topics (
            arn TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            fifo INTEGER NOT NULL DEFAULT 0,
            attributes TEXT NOT NULL DEFAULT '{}',
            tags TEXT NOT NULL DEFAULT '{}',
            subscriptions_deleted INTEGER NOT NULL DEFAULT 0,
            sequence INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        );
        CREATE INDEX sns_topics_owner ON sns_topics (account_id, region, arn);
        CREATE TABLE sns_subscriptions (
            arn TEXT PRIMARY KEY,
            topic_arn TEXT NOT NULL,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            protocol TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}',
            confirmed INTEGER NOT NULL DEFAULT 0,
            token TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX sns_subscriptions_topic ON sns_subscriptions (topic_arn, arn);
        CREATE INDEX sns_subscriptions_owner ON sns_subscriptions (account_id, region, arn);
        CREATE TABLE sns_messages (
            id TEXT PRIMARY KEY,
            topic_arn TEXT NOT NULL,
            document TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE sns_deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id TEXT NOT NULL,
            subscription_arn TEXT NOT NULL,
            fifo_group TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            scheduled INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        );
        CREATE INDEX sns_deliveries_chain ON sns_deliveries (subscription_arn, fifo_group, id);
        CREATE INDEX sns_deliveries_message ON sns_deliveries (message_id);
        CREATE TABLE sns_dedup (
            topic_arn TEXT NOT NULL,
            dedup_id TEXT NOT NULL,
            message_id TEXT NOT NULL,
            sequence_number TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (topic_arn, dedup_id)
        );
        CREATE TABLE sns_captured (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            record TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """,
    )
]

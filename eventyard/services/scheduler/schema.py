"""EventBridge Scheduler's tables: schedule groups and schedules as small JSON documents keyed by
(kind, account, region, name), and the groups' tags.

Scheduler kept them in EventBridge's `events_resources` and `events_tags` until it got tables of
its own (one owner per table); the migration moves them over. EventBridge's migrations run before
Scheduler's (services/registry.py lists `events` first), so its tables exist here."""

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "scheduler-0001-own-tables",
        """
        CREATE TABLE scheduler_resources (
            kind TEXT NOT NULL,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (kind, account_id, region, name)
        );
        CREATE TABLE scheduler_tags (
            arn TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (arn, key)
        );
        INSERT INTO scheduler_resources (kind, account_id, region, name, doc)
            SELECT kind, account_id, region, name, doc FROM events_resources
            WHERE kind IN ('schedule', 'schedule-group');
        DELETE FROM events_resources WHERE kind IN ('schedule', 'schedule-group');
        INSERT INTO scheduler_tags (arn, key, value)
            SELECT arn, key, value FROM events_tags WHERE arn LIKE 'arn:%:scheduler:%';
        DELETE FROM events_tags WHERE arn LIKE 'arn:%:scheduler:%'
        """,
    )
]

"""Step Functions tables. An execution row carries its checkpoint (next state, input, variables,
and where inside a state it stopped): that is what a STANDARD execution resumes from after a
durable Wait, a retry back-off or a restart."""

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "stepfunctions-0001-initial",
        """
        CREATE TABLE sfn_state_machines (
            arn TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            definition TEXT NOT NULL,
            role_arn TEXT NOT NULL,
            description TEXT,
            logging TEXT,
            tracing TEXT,
            revision_id TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}',
            next_version BIGINT NOT NULL DEFAULT 1
        );
        CREATE TABLE sfn_versions (
            arn TEXT PRIMARY KEY,
            machine_arn TEXT NOT NULL,
            version BIGINT NOT NULL,
            definition TEXT NOT NULL,
            role_arn TEXT NOT NULL,
            description TEXT,
            revision_id TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE sfn_aliases (
            arn TEXT PRIMARY KEY,
            machine_arn TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            routing TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE sfn_executions (
            arn TEXT PRIMARY KEY,
            machine_arn TEXT NOT NULL,
            version_arn TEXT,
            alias_arn TEXT,
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            definition TEXT NOT NULL,
            role_arn TEXT NOT NULL,
            input TEXT NOT NULL,
            output TEXT,
            error TEXT,
            cause TEXT,
            trace_header TEXT,
            started_at DOUBLE PRECISION NOT NULL,
            stopped_at DOUBLE PRECISION,
            checkpoint TEXT,
            next_event_id BIGINT NOT NULL DEFAULT 1,
            last_event_id BIGINT NOT NULL DEFAULT 0,
            redrive_count BIGINT NOT NULL DEFAULT 0,
            redrive_at DOUBLE PRECISION,
            region TEXT NOT NULL,
            account_id TEXT NOT NULL
        );
        CREATE INDEX sfn_executions_machine ON sfn_executions (machine_arn, started_at);
        CREATE INDEX sfn_executions_running ON sfn_executions (status);
        CREATE TABLE sfn_history (
            execution_arn TEXT NOT NULL,
            event_id BIGINT NOT NULL,
            event TEXT NOT NULL,
            PRIMARY KEY (execution_arn, event_id)
        );
        CREATE TABLE sfn_activities (
            arn TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}'
        )
        """,
    ),
    Migration(
        "stepfunctions-0002-task-tokens",
        # A top-level task waiting for its token (.waitForTaskToken or an activity): the token
        # outlives a restart. `dispatched`: the integration call returned, or GetActivityTask handed
        # the task to a worker; `outcome`: SendTaskSuccess/Failure's answer, kept until the execution
        # moves on.
        """
        CREATE TABLE sfn_task_tokens (
            token TEXT PRIMARY KEY,
            execution_arn TEXT NOT NULL,
            activity_arn TEXT,
            input TEXT,
            dispatched BIGINT NOT NULL DEFAULT 0,
            outcome TEXT,
            heartbeat_at DOUBLE PRECISION NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX sfn_task_tokens_execution ON sfn_task_tokens (execution_arn)
        """,
    ),
    Migration(
        "stepfunctions-0003-units",
        # A top-level Map's iterations and Parallel's branches ("units") while the state runs: an
        # ended unit's result and events, or where a parked unit stands. Rows belong to the
        # execution's current checkpoint (resume kind "units") and go with its next top-level commit.
        """
        CREATE TABLE sfn_units (
            execution_arn TEXT NOT NULL,
            unit BIGINT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (execution_arn, unit)
        )
        """,
    ),
    Migration(
        "stepfunctions-0004-map-runs",
        # A distributed Map's Map Run. Counts (JSON MapRunItemCounts / MapRunExecutionCounts) are
        # written when it ends; while it runs the runner keeps them in memory.
        """
        CREATE TABLE sfn_map_runs (
            arn TEXT PRIMARY KEY,
            execution_arn TEXT NOT NULL,
            machine_arn TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            stopped_at DOUBLE PRECISION,
            max_concurrency BIGINT NOT NULL,
            tolerated_count BIGINT NOT NULL,
            tolerated_pct DOUBLE PRECISION NOT NULL,
            item_counts TEXT NOT NULL,
            execution_counts TEXT NOT NULL
        );
        CREATE INDEX sfn_map_runs_execution ON sfn_map_runs (execution_arn, started_at)
        """,
    ),
    Migration(
        "stepfunctions-0005-encryption",
        # EncryptionConfiguration (JSON) of state machines and activities; NULL: AWS's default,
        # {"type": "AWS_OWNED_KEY"}.
        """
        ALTER TABLE sfn_state_machines ADD COLUMN encryption TEXT;
        ALTER TABLE sfn_activities ADD COLUMN encryption TEXT
        """,
    ),
]

# Upserts shared by the runner and the execution operations (a rewritten event or a re-issued token).
HISTORY_UPSERT = ("INSERT INTO sfn_history (execution_arn, event_id, event) VALUES (?,?,?)"
                  " ON CONFLICT (execution_arn, event_id) DO UPDATE SET event = excluded.event")
TOKEN_UPSERT = ("INSERT INTO sfn_task_tokens (token, execution_arn, activity_arn, input, heartbeat_at, created_at)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT (token) DO UPDATE SET execution_arn = excluded.execution_arn,"
                " activity_arn = excluded.activity_arn, input = excluded.input, dispatched = 0, outcome = NULL,"
                " heartbeat_at = excluded.heartbeat_at, created_at = excluded.created_at")

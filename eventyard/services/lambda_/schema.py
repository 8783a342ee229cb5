"""Lambda's tables. A function's configuration is its FunctionConfiguration document (JSON), so the
wire shape and storage never drift; code lives on disk under the data directory, keyed by SHA-256."""

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "lambda-0001-initial",
        """
        CREATE TABLE lambda_functions (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            version TEXT NOT NULL,              -- '$LATEST' or '1', '2', ...
            config TEXT NOT NULL,               -- FunctionConfiguration
            code TEXT NOT NULL,                 -- {"sha": ..., "dir": ...} or {"local": path}
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account_id, region, name, version)
        );
        CREATE TABLE lambda_function_meta (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}',
            reserved_concurrency BIGINT,
            next_version BIGINT NOT NULL DEFAULT 1,
            PRIMARY KEY (account_id, region, name)
        );
        CREATE TABLE lambda_aliases (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            alias TEXT NOT NULL,
            config TEXT NOT NULL,               -- AliasConfiguration
            PRIMARY KEY (account_id, region, name, alias)
        );
        CREATE TABLE lambda_policies (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            qualifier TEXT NOT NULL,
            sid TEXT NOT NULL,
            statement TEXT NOT NULL,
            PRIMARY KEY (account_id, region, name, qualifier, sid)
        );
        CREATE TABLE lambda_event_invoke_configs (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            qualifier TEXT NOT NULL,
            config TEXT NOT NULL,
            PRIMARY KEY (account_id, region, name, qualifier)
        );
        CREATE TABLE lambda_layers (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            version BIGINT NOT NULL,
            config TEXT NOT NULL,               -- PublishLayerVersionResponse
            dir TEXT NOT NULL,
            PRIMARY KEY (account_id, region, name, version)
        );
        CREATE TABLE lambda_event_source_mappings (
            uuid TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            function_name TEXT NOT NULL,
            config TEXT NOT NULL,               -- EventSourceMappingConfiguration
            position TEXT NOT NULL DEFAULT '{}' -- per-shard checkpoints for streams
        )
        """,
    ),
    Migration(
        "lambda-0002-ordering",
        # Listings keep creation order with a column both engines have (not SQLite's hidden row id).
        """
        ALTER TABLE lambda_policies ADD COLUMN added_at DOUBLE PRECISION NOT NULL DEFAULT 0;
        ALTER TABLE lambda_event_source_mappings ADD COLUMN created_at DOUBLE PRECISION NOT NULL DEFAULT 0
        """,
    ),
    Migration(
        "lambda-0003-function-urls",
        # One URL per function or alias (qualifier '' = the function itself); url_id is the host's label.
        """
        CREATE TABLE lambda_function_urls (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            qualifier TEXT NOT NULL,
            url_id TEXT NOT NULL UNIQUE,
            auth_type TEXT NOT NULL,
            cors TEXT,                          -- the Cors document as given, or NULL
            invoke_mode TEXT,                   -- as given, NULL when never set (BUFFERED)
            created_at DOUBLE PRECISION NOT NULL,
            modified_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account_id, region, name, qualifier)
        );
        -- Ids of deleted URLs: AWS answers them "Forbidden", where an id it never gave out gets no message.
        CREATE TABLE lambda_retired_function_urls (
            url_id TEXT PRIMARY KEY
        )
        """,
    ),
    Migration(
        "lambda-0004-resource-settings",
        # Tags of resources other than functions (event source mappings, code signing configs) by ARN;
        # code signing configs and a function's link to one; a function's recursive-loop setting;
        # layer version policies; provisioned concurrency per version or alias.
        """
        CREATE TABLE lambda_resource_tags (
            arn TEXT PRIMARY KEY,
            tags TEXT NOT NULL
        );
        CREATE TABLE lambda_code_signing_configs (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            csc_id TEXT NOT NULL,
            config TEXT NOT NULL,               -- CodeSigningConfig
            PRIMARY KEY (account_id, region, csc_id)
        );
        ALTER TABLE lambda_function_meta ADD COLUMN code_signing_config TEXT;
        ALTER TABLE lambda_function_meta ADD COLUMN recursive_loop TEXT;
        CREATE TABLE lambda_layer_policies (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            version BIGINT NOT NULL,
            sid TEXT NOT NULL,
            statement TEXT NOT NULL,
            added_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account_id, region, name, version, sid)
        );
        CREATE TABLE lambda_provisioned_concurrency (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            qualifier TEXT NOT NULL,
            config TEXT NOT NULL,
            PRIMARY KEY (account_id, region, name, qualifier)
        )
        """,
    ),
    Migration(
        "lambda-0005-layer-policy-revision",
        # A layer version's policy has a RevisionId of its own (Add/RemoveLayerVersionPermission check it).
        # Layer version numbers are never reused: the last one given out per layer.
        """
        ALTER TABLE lambda_layers ADD COLUMN policy_revision TEXT;
        CREATE TABLE lambda_layer_counters (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            last_version BIGINT NOT NULL,
            PRIMARY KEY (account_id, region, name)
        )
        """,
    ),
]

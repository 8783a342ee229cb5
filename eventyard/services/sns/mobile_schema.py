"""Tables for mobile push (platform applications and endpoints) and SMS (account attributes,
opted-out numbers, SMS sandbox numbers)."""

from __future__ import annotations

from eventyard.storage import Migration

MIGRATIONS = [
    Migration(
        "sns-mobile-0001",
        """
        CREATE TABLE sns_platform_applications (
            arn TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            platform TEXT NOT NULL,
            attributes TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX sns_platform_applications_owner ON sns_platform_applications (account_id, region, arn);
        CREATE TABLE sns_platform_endpoints (
            arn TEXT PRIMARY KEY,
            application_arn TEXT NOT NULL,
            token TEXT NOT NULL,
            attributes TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX sns_platform_endpoints_token ON sns_platform_endpoints (application_arn, token);
        CREATE TABLE sns_sms_settings (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            attributes TEXT NOT NULL,
            PRIMARY KEY (account_id, region)
        );
        CREATE TABLE sns_sms_opt_outs (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            phone TEXT NOT NULL,
            opted_out BIGINT NOT NULL,
            opted_in_at DOUBLE PRECISION,
            changed_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account_id, region, phone)
        );
        CREATE TABLE sns_sms_sandbox (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            phone TEXT NOT NULL,
            status TEXT NOT NULL,
            otp TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account_id, region, phone)
        )
        """,
    )
]

"""Durable state: the interface domain code writes against, its engines, and schema migrations."""

from pathlib import Path

from eventyard.storage.interface import (
    Connection,
    Cursor,
    Database,
    Isolation,
    Listener,
    Migration,
    Row,
    StorageUnavailable,
    skip_locked,
)
from eventyard.storage.postgres import PostgresDatabase
from eventyard.storage.sqlite import SqliteDatabase, open_database

__all__ = ["Connection", "Cursor", "Database", "Isolation", "Listener", "Migration", "PostgresDatabase", "Row", "SqliteDatabase",
           "StorageUnavailable", "is_postgres_url", "open_database", "open_storage", "skip_locked"]


def is_postgres_url(storage: str) -> bool:
    return storage.startswith(("postgresql://", "postgres://"))


def open_storage(storage: str, data_dir: Path, sqlite_synchronous: str = "normal") -> Database:
    """The database a setting names: "" or "sqlite" (a file in `data_dir`), or a PostgreSQL URL."""
    if is_postgres_url(storage):
        return PostgresDatabase(storage)
    if storage not in {"", "sqlite"}:
        raise ValueError(f"storage must be 'sqlite' or a postgresql:// URL, not {storage!r}")
    return open_database(data_dir, sqlite_synchronous)

"""Durable state: the interface domain code writes against, its engines, and schema migrations."""

from eventyard.storage.interface import (
    Connection,
    Cursor,
    Database,
    Migration,
    Row,
    StorageUnavailable,
)
from eventyard.storage.sqlite import SqliteDatabase, open_database

__all__ = ["Connection", "Cursor", "Database", "Migration", "Row", "SqliteDatabase", "StorageUnavailable",
           "open_database"]

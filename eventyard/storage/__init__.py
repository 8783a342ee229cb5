"""Durable state: interfaces, the embedded SQLite backend, and schema migrations."""

from eventyard.storage.database import Database, Migration, open_database

__all__ = ["Database", "Migration", "open_database"]

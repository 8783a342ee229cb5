"""Which storage backend the suite's servers use, and PostgreSQL databases made for them.

`EVENTYARD_TEST_STORAGE=postgresql` runs every `ServerProcess` on a PostgreSQL database of its own
(at EVENTYARD_TEST_POSTGRES, default the local server's postgres user), created on demand and
dropped when the test session ends. Without a PostgreSQL that answers, PostgreSQL tests skip and say
why, unless EVENTYARD_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql as pgsql

TEST_STORAGE = os.environ.get("EVENTYARD_TEST_STORAGE", "sqlite").strip().lower() or "sqlite"
POSTGRES_ADMIN = os.environ.get("EVENTYARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("EVENTYARD_REQUIRE_POSTGRES", "") in {"1", "true", "yes"}
_numbers = itertools.count(1)
_created: list[str] = []


@cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as error:
        return f"no PostgreSQL answers at {POSTGRES_ADMIN} ({str(error).strip()})"


def require_postgres() -> None:
    """Skip (or, with EVENTYARD_REQUIRE_POSTGRES=1, fail) when PostgreSQL does not answer."""
    problem = postgres_problem()
    if problem is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"EVENTYARD_REQUIRE_POSTGRES=1 but {problem}")
    pytest.skip(problem)


def url_of(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN.rpartition("/")
    return f"{base}/{database}"


def new_postgres_database() -> str:
    """A fresh, empty database with byte-order text comparison (dropped at the session's end)."""
    require_postgres()
    name = f"eyt_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
        conn.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
                     .format(pgsql.Identifier(name)))
    _created.append(name)
    return url_of(name)


_by_data_dir: dict[Path, str] = {}


def postgres_database_for(data_dir: Path) -> str:
    """The database of the server whose data directory is `data_dir` (one per directory, so a restarted
    server finds its state)."""
    if data_dir not in _by_data_dir:
        _by_data_dir[data_dir] = new_postgres_database()
    return _by_data_dir[data_dir]


def drop_created_databases() -> None:
    if not _created:
        return
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        for name in _created:
            conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
    _created.clear()


def query_database(storage: str, data_dir: Path, statement: str) -> list[tuple[Any, ...]]:
    if storage.startswith("postgres"):
        with psycopg.connect(storage) as conn:
            try:
                return [tuple(row) for row in conn.execute(statement.encode()).fetchall()]
            except psycopg.errors.UndefinedTable:
                return []
    conn = sqlite3.connect(f"file:{data_dir / 'eventyard.sqlite3'}?mode=ro", uri=True)
    try:
        return [tuple(row) for row in conn.execute(statement).fetchall()]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()

"""One PostgreSQL transaction as domain code sees it: portable SQL in, sqlite3-like rows out.

`?` placeholders become psycopg's, text with NUL travels as a stand-in PostgreSQL can store, rows
answer by name or position as `sqlite3.Row` does, flags and sums come back as SQLite gives them, and
the commit/rollback hooks of `storage.Connection` are kept. The connection also notes whether its
function changed anything, so group commit (`pg_writers.py`) knows when a failed request can simply
be left out of its group's transaction.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
import psycopg.errors
from psycopg import pq
from psycopg.adapt import Dumper, Loader
from psycopg_pool import PoolTimeout

from eventyard.storage.interface import CommitHooks, Cursor, Isolation, StorageUnavailable
from eventyard.storage.pg_pipeline import NUL, NUL_STAND_IN, Pipe, Result, numbered, without_nul

LEVELS = {Isolation.SERIALIZABLE: psycopg.IsolationLevel.SERIALIZABLE,
          Isolation.SNAPSHOT: psycopg.IsolationLevel.REPEATABLE_READ,
          Isolation.COMMITTED: psycopg.IsolationLevel.READ_COMMITTED}
# Conflicts a fresh snapshot resolves: run the transaction again.
RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected, psycopg.errors.UniqueViolation)
_TEXT = re.compile(r"\bTEXT\b", re.I)
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?|%")


# -- SQL -----------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """Portable SQL (`?` placeholders) in psycopg's spelling (`%s`; a literal `%` doubled everywhere,
    since psycopg reads `%` even inside string literals). A `?` inside a literal stays a `?`."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        return token.replace("%", "%%")

    return _TOKENS.sub(replace, sql)


@functools.lru_cache(maxsize=4096)
def _prepared(sql: str) -> tuple[str, bool]:
    """A statement in psycopg's spelling, and whether it may change data: anything but a plain
    SELECT, and a SELECT that sends a notification (delivered at commit: a change others see)."""
    head = sql.lstrip()[:6].upper()
    return to_psycopg(sql), head != "SELECT" or "pg_notify" in sql


def translate_ddl(sql: str) -> str:
    """Text columns compare bytes, as SQLite's do (the database's own collation may be a locale's)."""
    return _TEXT.sub('TEXT COLLATE "C"', sql)


# -- rows: like sqlite3.Row (by name or position, dict(row), keys()) ------------------------------
@functools.lru_cache(maxsize=2048)
def _row_class(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    index: dict[str, int] = {}
    for position in reversed(range(len(names))):  # the first column of a name wins, as in sqlite3.Row
        index[names[position]] = position
        index[names[position].lower()] = position
    get = tuple.__getitem__

    def getitem(self: tuple[Any, ...], key: Any) -> Any:
        if isinstance(key, str):
            found = index.get(key)
            key = index[key.lower()] if found is None else found
        return get(self, key)

    def keys(self: tuple[Any, ...]) -> list[str]:
        return list(names)

    return type("PgRow", (tuple,), {"__slots__": (), "__getitem__": getitem, "keys": keys})


# PostgreSQL text cannot hold NUL, which SQLite stores (a name a client made up, a message body):
# parameters carry it as a noncharacter no AWS text contains (NUL_STAND_IN), and rows give NUL back.


def _row_factory(cursor: Any) -> Callable[[Any], Any]:
    return row_maker(cursor.pgresult)


def row_maker(result: Any) -> Callable[[Any], Any]:
    """Rows of `result` (a PGresult) as sqlite3-like tuples, NUL given back in text."""
    if not result or not result.nfields:
        return tuple
    # The names straight from the result: `cursor.description` would build Column objects per statement.
    row_class = _row_class(tuple((result.fname(i) or b"").decode() for i in range(result.nfields)))

    def make(values: Any) -> Any:
        for value in values:
            if value.__class__ is str and NUL_STAND_IN in value:
                return row_class(v.replace(NUL_STAND_IN, NUL) if v.__class__ is str else v for v in values)
        return row_class(values)

    return make


_ROWS = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE)


class _Cursor(psycopg.Cursor[Any]):
    """fetchone/fetchall of a statement without rows answer None/[] (sqlite3's way), not an error.

    Transactions run in pipeline mode (`pg_transactions.py`): statements are sent without waiting, and
    a statement's rows, row count or error arrive when something asks for them."""

    def _arrived(self) -> bool:
        """Wait for this statement's answer; whether it has rows (psycopg's `description` is not None)."""
        pipeline = self._conn._pipeline
        if pipeline is not None and pipeline.result_queue:
            pipeline.sync()
        result = self.pgresult
        return bool(result and (result.nfields or result.status in _ROWS))

    def fetchone(self) -> Any:
        return super().fetchone() if self._arrived() else None

    def fetchall(self) -> list[Any]:
        return super().fetchall() if self._arrived() else []

    @property
    def rowcount(self) -> int:
        self._arrived()
        return self._rowcount


class _BoolAsInt(Dumper):
    """Flags are BIGINT 0/1 columns in the portable schema; Python's True is stored as 1."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _NumericAsNumber(Loader):
    """SUM and AVG answer NUMERIC: an int when whole, else a float (what SQLite answers)."""

    def load(self, data: Any) -> Any:
        text = bytes(data).decode()
        return int(text) if text.lstrip("-").isdigit() else float(text)


def configure(conn: psycopg.Connection[Any]) -> None:
    conn.cursor_factory = _Cursor
    conn.row_factory = _row_factory
    conn.adapters.register_dumper(bool, _BoolAsInt)
    conn.adapters.register_loader("numeric", _NumericAsNumber)


class PgConnection(CommitHooks):
    """One request's `Connection`: portable SQL in, sqlite3-like rows out, commit hooks, and whether
    it changed anything (`wrote`). Inside a `Pipe` (the writers' and readers' transactions) statements
    go straight to libpq (pg_pipeline.py); otherwise through psycopg's cursors (scripted sessions)."""

    backend = "postgresql"
    __slots__ = ("_conn", "_pipe", "wrote")

    def __init__(self, conn: psycopg.Connection[Any], pipe: Pipe | None = None) -> None:
        super().__init__()
        self._conn = conn
        self._pipe = pipe
        self.wrote = False

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        if self._pipe is not None:
            statement, writes = numbered(sql)
            if writes:
                self.wrote = True
            return self._pipe.execute(statement, parameters)
        psycopg_sql, writes = _prepared(sql)
        if writes:
            self.wrote = True
        return self._conn.execute(psycopg_sql, without_nul(parameters))  # type: ignore[return-value]

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor:
        self.wrote = True
        if self._pipe is not None:
            statement = numbered(sql)[0]
            results = [self._pipe.execute(statement, p) for p in parameters]
            return results[-1] if results else Result(None)
        cursor = self._conn.cursor()
        cursor.executemany(to_psycopg(sql), [without_nul(p) for p in parameters])
        return cursor  # type: ignore[return-value]


# -- errors --------------------------------------------------------------------------------------
def unavailable(error: BaseException) -> BaseException:
    """Conditions that pass (connection lost, server shutting down, disk full, pool exhausted) as the
    portable StorageUnavailable; anything else unchanged."""
    if isinstance(error, (psycopg.OperationalError, PoolTimeout)):
        translated = StorageUnavailable(f"PostgreSQL: {str(error).strip() or type(error).__name__}")
        translated.__cause__ = error
        return translated
    return error

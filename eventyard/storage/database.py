"""The storage interface every service writes through, and its embedded SQLite (WAL) backend.

A service hands the database a plain function of a connection. Writes from many concurrent
requests are run by one writer thread inside ONE transaction (group commit): each function gets its
own savepoint, so one failing request rolls back alone, and every caller is answered only after the
shared COMMIT returned. That is how "acknowledged means committed" coexists with throughput: one
fsync pays for the whole group.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

# A group larger than this is split: it bounds how long the first request of a burst waits.
MAX_GROUP = 512


@dataclass(frozen=True)
class Migration:
    """One step of a service's schema. Ids are global and applied once, in registration order."""

    id: str
    sql: str


class Database(Protocol):
    backend: str

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...

    def run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...

    def migrate(self, migrations: Iterable[Migration]) -> list[str]: ...

    def close(self) -> None: ...


_STOP = object()


class SqliteDatabase:
    """SQLite in WAL mode, driven by a single writer thread that commits in groups."""

    backend = "sqlite"

    def __init__(self, path: Path | str, synchronous: str = "normal") -> None:
        if synchronous not in {"full", "normal"}:
            raise ValueError(f"synchronous must be 'full' or 'normal', not {synchronous!r}")
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards run_sync against the writer thread
        self.groups_committed = 0
        self.requests_committed = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._writer_loop, name="eventyard-db", daemon=True)
            self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        self._conn.close()

    # -- the interface ---------------------------------------------------------------------
    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._thread is None:
            return self.run_sync(fn)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, future, loop))
        return await future

    # Reads share the writer's connection and queue: they see every committed write, and SQLite
    # reads are cheap next to the cost of a second connection's cache and its locking.
    read = write

    def run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run one function in its own transaction on the calling thread (start-up, tests)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return result

    def migrate(self, migrations: Iterable[Migration]) -> list[str]:
        def apply(conn: sqlite3.Connection) -> list[str]:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT id FROM schema_migrations")}
            applied = []
            for migration in migrations:
                if migration.id in done:
                    continue
                for statement in _split_sql(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (id, applied_at) VALUES (?, datetime('now'))", (migration.id,)
                )
                applied.append(migration.id)
            return applied

        return self.run_sync(apply)

    # -- the writer thread -----------------------------------------------------------------
    def _writer_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            stop_after = False
            while len(group) < MAX_GROUP:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                group.append(item)
            with self._lock:
                self._run_group(group)
            if stop_after:
                return

    def _run_group(self, group: list[Any]) -> None:
        conn = self._conn
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, _future, _loop in group:
                conn.execute("SAVEPOINT request")
                try:
                    outcomes.append((True, fn(conn)))
                    conn.execute("RELEASE request")
                except BaseException as exc:  # the request's own error: roll back only its work
                    conn.execute("ROLLBACK TO request")
                    conn.execute("RELEASE request")
                    outcomes.append((False, exc))
            conn.execute("COMMIT")
        except BaseException as exc:  # the transaction itself failed: nobody was committed
            log.exception("group commit failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(False, exc)] * len(group)
        self.groups_committed += 1
        self.requests_committed += len(group)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for (_fn, future, loop), (ok, value) in zip(group, outcomes, strict=True):
            by_loop.setdefault(loop, []).append((future, ok, value))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # the loop closed while we committed: nobody is waiting
                pass


def _settle(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def open_database(data_dir: Path, synchronous: str = "normal") -> SqliteDatabase:
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteDatabase(data_dir / "eventyard.sqlite3", synchronous=synchronous)

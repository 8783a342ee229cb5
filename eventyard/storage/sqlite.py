"""The embedded SQLite (WAL) backend: group commit for writes, separate connections for reads.

A service hands the database a plain function of a connection. Writes from many concurrent
requests are run by one writer thread inside ONE transaction (group commit): each function gets its
own savepoint, so one failing request rolls back alone, and every caller is answered only after the
shared COMMIT returned. That is how "acknowledged means committed" coexists with throughput: one
fsync pays for the whole group. Reads run on their own read-only connections in a small thread
pool (WAL lets readers work beside the writer), so a slow read never waits behind writes, nor
writes behind it; every read sees every write acknowledged before it started.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from eventyard.storage.checkpoints import Checkpointer
from eventyard.storage.interface import (
    CommitHooks,
    Connection,
    Cursor,
    Isolation,
    Listener,
    Migration,
    StorageUnavailable,
    split_sql,
)
from eventyard.storage.signals import LocalSignals

T = TypeVar("T")
log = logging.getLogger(__name__)

# A group larger than this is split: it bounds how long the first request of a burst waits.
MAX_GROUP = 512
READERS = 2  # read connections (threads); reads are short, and the machine's cores are few
BUSY_TIMEOUT_MS = 5000
UNCAPPED_PAGES = 4_294_967_294  # SQLite's largest max_page_count

# Portable DDL (see storage.interface) in SQLite's spelling.
_DDL = [
    (re.compile(r"BIGINT\s+GENERATED\s+BY\s+DEFAULT\s+AS\s+IDENTITY\s+PRIMARY\s+KEY", re.I),
     "INTEGER PRIMARY KEY AUTOINCREMENT"),
    (re.compile(r"\bBYTEA\b", re.I), "BLOB"),
]
# SQLite's messages for conditions that pass: another process holds the lock, the disk is full.
_UNAVAILABLE = ("database is locked", "database or disk is full", "disk i/o error", "unable to open database")

_STOP = object()


class SqliteConnection(CommitHooks):
    """One request's view of a SQLite connection: the portable `Connection`, with its commit hooks."""

    backend = "sqlite"
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self._conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        return self._conn.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Cursor:
        return self._conn.executemany(sql, parameters)


def translate_ddl(sql: str) -> str:
    for pattern, replacement in _DDL:
        sql = pattern.sub(replacement, sql)
    return sql


def unavailable(error: BaseException) -> BaseException:
    """SQLite's transient errors as the portable StorageUnavailable; anything else unchanged."""
    if isinstance(error, sqlite3.OperationalError) and str(error).lower().startswith(_UNAVAILABLE):
        translated = StorageUnavailable(str(error))
        translated.__cause__ = error
        return translated
    return error


class TransactionLost(Exception):
    """A request's error made SQLite roll the whole group's transaction back: nobody is committed."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class SqliteDatabase:
    """SQLite in WAL mode: one writer thread that commits in groups, and a pool of readers."""

    backend = "sqlite"
    shared = False  # one process owns the file (the writer lock would serialize any other anyway)

    def __init__(self, path: Path | str, synchronous: str = "normal") -> None:
        if synchronous not in {"full", "normal"}:
            raise ValueError(f"synchronous must be 'full' or 'normal', not {synchronous!r}")
        self.path = str(path)
        self.synchronous = synchronous
        self._conn = self._connect()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards run_sync against the writer thread
        self._readers: ThreadPoolExecutor | None = None
        self._reader_local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_conns_lock = threading.Lock()
        self._checkpointer: Checkpointer | None = None
        self.groups_committed = 0
        self.requests_committed = 0
        self.signals = LocalSignals()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return conn

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "path": self.path, "synchronous": self.synchronous}

    def cap_pages_for_tests(self, extra_pages: int | None) -> int:
        """TEST-ONLY (reached through /_eventyard/test-only/storage-cap when EVENTYARD_TEST_HOOKS=1): let
        the database file grow by at most `extra_pages` more pages, as a full disk would (writes then
        fail with SQLite's "database or disk is full"); None takes the cap away. Answers the cap."""
        with self._lock:  # between the writer's groups
            if extra_pages is None:
                pages = UNCAPPED_PAGES
            else:
                pages = self._conn.execute("PRAGMA page_count").fetchone()[0] + max(0, extra_pages)
            return int(self._conn.execute(f"PRAGMA max_page_count = {int(pages)}").fetchone()[0])

    # -- signals (one process: in-process delivery is all there is) ------------------------
    def subscribe(self, channel: str, listener: Listener) -> None:
        self.signals.subscribe(channel, listener)

    def notify(self, conn: Connection, channel: str, key: str) -> None:
        conn.on_commit(lambda: self.signals.dispatch(channel, key))

    def announce(self, channel: str, key: str) -> None:
        self.signals.dispatch(channel, key)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.signals.bind(asyncio.get_running_loop())
        except RuntimeError:  # started outside a loop (engine tests): listeners run on the writer thread
            self.signals.bind(None)
        if self._thread is None:
            # Checkpoints run beside the writer from now on, mostly not inside a commit (storage/checkpoints.py).
            self._checkpointer = Checkpointer(self._connect, lambda: self.groups_committed)
            self._checkpointer.start(self._conn)
            self._thread = threading.Thread(target=self._writer_loop, name="eventyard-db", daemon=True)
            self._thread.start()
            self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="eventyard-db-read")

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        with self._reader_conns_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()
        self._conn.close()

    # -- the interface ---------------------------------------------------------------------
    async def write(self, fn: Callable[[Connection], T], *, isolation: Isolation = Isolation.SERIALIZABLE) -> T:
        if self._thread is None:
            return self.run_sync(fn)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, future, loop))
        return await future

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` on a read-only connection of its own: it sees every write acknowledged so far."""
        if self._readers is None:
            return self.run_sync(fn)
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._read_on_thread, fn)

    def _read_on_thread(self, fn: Callable[[Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._reader_local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=ON")  # a read function that writes is a bug: fail loudly
            self._reader_local.conn = conn
            with self._reader_conns_lock:
                self._reader_conns.append(conn)
        try:
            conn.execute("BEGIN")  # one snapshot for every statement of the function
            try:
                view = SqliteConnection(conn)
                result = fn(view)
            finally:
                conn.execute("COMMIT")
            view.settle(True)
            return result
        except sqlite3.OperationalError as error:
            raise unavailable(error) from None

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run one function in its own transaction on the calling thread (start-up, tests)."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise unavailable(error) from None
            view = SqliteConnection(self._conn)
            try:
                result = fn(view)
            except BaseException as exc:
                if self._conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
                    self._conn.execute("ROLLBACK")
                view.settle(False)
                translated = unavailable(exc)
                if translated is exc:
                    raise
                raise translated from exc
            self._conn.execute("COMMIT")
            view.settle(True)
            return result

    def migrate(self, migrations: Iterable[Migration]) -> list[str]:
        def apply(conn: Connection) -> list[str]:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT id FROM schema_migrations")}
            applied = []
            for migration in migrations:
                if migration.id in done:
                    continue
                for statement in split_sql(migration.sql):
                    conn.execute(translate_ddl(statement))
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
        views: list[SqliteConnection] = []
        alone = len(group) == 1  # a request alone needs no savepoint: its transaction is its own
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, _future, _loop in group:
                if not alone:
                    conn.execute("SAVEPOINT request")
                view = SqliteConnection(conn)
                try:
                    outcomes.append((True, fn(view)))
                    if not alone:
                        conn.execute("RELEASE request")
                    views.append(view)
                except BaseException as exc:  # the request's own error: roll back only its work
                    if not conn.in_transaction:  # SQLite rolled everything back (disk full, I/O error)
                        raise TransactionLost(exc) from exc
                    if alone:
                        conn.execute("ROLLBACK")
                    else:
                        conn.execute("ROLLBACK TO request")
                        conn.execute("RELEASE request")
                    view.settle(False)
                    outcomes.append((False, unavailable(exc)))
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException as exc:  # the transaction itself failed: nobody was committed
            if isinstance(exc, TransactionLost):
                exc = exc.cause
            log.warning("group commit failed: %s", exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(False, unavailable(exc))] * len(group)
            for view in views:
                view.settle(False)
            views = []
        for view in views:
            view.settle(True)
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


def open_database(data_dir: Path, synchronous: str = "normal") -> SqliteDatabase:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / "eventyard.sqlite3"
    _owner_only(path)
    return SqliteDatabase(path, synchronous=synchronous)


def _owner_only(path: Path) -> None:
    """The database holds secrets (SNS's signing key, stored credentials): readable by its owner only.
    SQLite creates the -wal and -shm files with the database file's mode."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if existing.exists():
            existing.chmod(0o600)

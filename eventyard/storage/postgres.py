"""The PostgreSQL backend: several Eventyard processes (on one host or many) share one database.

Every write is one transaction on a pooled connection, committed before the caller is answered.
Writes run SERIALIZABLE unless they ask otherwise (`Isolation`): PostgreSQL refuses a commit whose
outcome no serial order of the transactions could give (a lost update, or write skew such as two
transactions that each decide from a row the other one changes), and `write` then rolls back, runs
the rollback hooks and runs the function again on a fresh snapshot. So every domain function that
was correct under SQLite's single writer (which IS a serial order) stays correct here without being
rewritten; REPEATABLE READ alone would not do: an SNS FIFO publish and the completion of the
group's previous delivery each decide from a row the other changes (so do a FIFO queue's send and
the delete of its group's last message). Hot paths that cannot skew ask for less: timer claims run
at REPEATABLE READ, standard-queue sends, receives and deletes at READ COMMITTED (claims with
`FOR UPDATE SKIP LOCKED`, so consumers pass each other; counters that commute, so senders queue on a
row lock instead of conflicting). Reads run at REPEATABLE READ, READ
ONLY: one consistent snapshot. Text columns compare bytes (`COLLATE "C"`), as SQLite does, so
listings page identically. Change signals travel between nodes with LISTEN/NOTIFY (`signals.py` has the rest).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
import psycopg.errors
from psycopg import sql as pgsql
from psycopg.adapt import Dumper, Loader
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from eventyard.storage.interface import (
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

WRITERS = 8  # connections (and threads) for writes: enough to overlap round trips on a few cores
READERS = 4
MAX_ATTEMPTS = 30  # of a write whose transaction keeps losing to concurrent ones
MAX_DUPLICATE_RETRIES = 3
CHANNEL = "eventyard"  # the one LISTEN channel; payloads say node, signal channel and key
MIGRATION_LOCK = 0x6576_6E74  # advisory lock id: one node at a time applies migrations
ANNOUNCE_PAUSE = 0.005  # between batches of announcements: wake-ups on other nodes wait at most this more

_LEVELS = {Isolation.SERIALIZABLE: psycopg.IsolationLevel.SERIALIZABLE,
           Isolation.SNAPSHOT: psycopg.IsolationLevel.REPEATABLE_READ,
           Isolation.COMMITTED: psycopg.IsolationLevel.READ_COMMITTED}
# Conflicts a fresh snapshot resolves: run the transaction again.
_RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected, psycopg.errors.UniqueViolation)
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
# parameters carry it as a noncharacter no AWS text contains, and rows give NUL back.
NUL, NUL_STAND_IN = "\x00", "\U0010fffe"


def _parameters(parameters: Iterable[Any]) -> tuple[Any, ...]:
    values = tuple(parameters)
    for value in values:
        if value.__class__ is str and NUL in value:
            return tuple(v.replace(NUL, NUL_STAND_IN) if v.__class__ is str else v for v in values)
    return values


def _row_factory(cursor: Any) -> Callable[[Any], Any]:
    description = cursor.description
    if description is None:
        return tuple
    row_class = _row_class(tuple(column.name for column in description))

    def make(values: Any) -> Any:
        for value in values:
            if value.__class__ is str and NUL_STAND_IN in value:
                return row_class(v.replace(NUL_STAND_IN, NUL) if v.__class__ is str else v for v in values)
        return row_class(values)

    return make


class _Cursor(psycopg.Cursor[Any]):
    """fetchone/fetchall of a statement without rows answer None/[] (sqlite3's way), not an error."""

    def fetchone(self) -> Any:
        return None if self.description is None else super().fetchone()

    def fetchall(self) -> list[Any]:
        return [] if self.description is None else super().fetchall()


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


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.cursor_factory = _Cursor
    conn.row_factory = _row_factory
    conn.adapters.register_dumper(bool, _BoolAsInt)
    conn.adapters.register_loader("numeric", _NumericAsNumber)


class PgConnection:
    """One transaction's `Connection`: portable SQL in, sqlite3-like rows out, commit hooks."""

    backend = "postgresql"
    __slots__ = ("_conn", "committed", "rolled_back")

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self.committed: list[Callable[[], object]] = []
        self.rolled_back: list[Callable[[], object]] = []

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        return self._conn.execute(to_psycopg(sql), _parameters(parameters))  # type: ignore[return-value]

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor:
        cursor = self._conn.cursor()
        cursor.executemany(to_psycopg(sql), [_parameters(p) for p in parameters])
        return cursor  # type: ignore[return-value]

    def on_commit(self, callback: Callable[[], object], /) -> None:
        self.committed.append(callback)

    def on_rollback(self, callback: Callable[[], object], /) -> None:
        self.rolled_back.append(callback)

    def settle(self, committed: bool) -> None:
        for callback in self.committed if committed else self.rolled_back:
            try:
                callback()
            except Exception:
                log.exception("commit hook failed")


# -- errors --------------------------------------------------------------------------------------
def unavailable(error: BaseException) -> BaseException:
    """Conditions that pass (connection lost, server shutting down, disk full, pool exhausted) as the
    portable StorageUnavailable; anything else unchanged."""
    if isinstance(error, (psycopg.OperationalError, PoolTimeout)):
        translated = StorageUnavailable(f"PostgreSQL: {str(error).strip() or type(error).__name__}")
        translated.__cause__ = error
        return translated
    return error


# -- the database --------------------------------------------------------------------------------
class PostgresDatabase:
    backend = "postgresql"
    shared = True

    def __init__(self, url: str, writers: int = WRITERS, readers: int = READERS) -> None:
        self.url = url
        self.node_id = uuid.uuid4().hex
        ensure_database(url)
        kwargs: dict[str, Any] = {"autocommit": False}
        self._writers = ConnectionPool(url, min_size=1, max_size=writers, kwargs=kwargs, configure=self._configure_writer,
                                       open=False, name="eventyard-write", timeout=30)
        self._readers = ConnectionPool(url, min_size=1, max_size=readers, kwargs=kwargs, configure=self._configure_reader,
                                       open=False, name="eventyard-read", timeout=30)
        self._write_threads: ThreadPoolExecutor | None = None
        self._read_threads: ThreadPoolExecutor | None = None
        self.signals = LocalSignals()
        self._bus: _NotificationBus | None = None
        self._pools_open = False

    @property
    def path(self) -> str:
        """Where the data is, without a password (health shows it)."""
        params = conninfo_to_dict(self.url)
        params.pop("password", None)
        return make_conninfo("", **params)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "path": self.path, "node": self.node_id}

    @staticmethod
    def _configure_writer(conn: psycopg.Connection[Any]) -> None:
        _configure(conn)
        conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE

    @staticmethod
    def _configure_reader(conn: psycopg.Connection[Any]) -> None:
        _configure(conn)
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot per read function
        conn.read_only = True  # a read function that writes is a bug: fail loudly

    def _open_pools(self) -> None:
        if not self._pools_open:
            try:
                for pool in (self._writers, self._readers):
                    pool.open(wait=True, timeout=30)
            except PoolTimeout as error:
                raise StorageUnavailable(f"PostgreSQL at {self.path} does not answer: {error}") from error
            self._pools_open = True

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._open_pools()
        try:
            self.signals.bind(asyncio.get_running_loop())
        except RuntimeError:
            self.signals.bind(None)
        if self._write_threads is None:
            self._write_threads = ThreadPoolExecutor(self._writers.max_size, thread_name_prefix="eventyard-pg-write")
            self._read_threads = ThreadPoolExecutor(self._readers.max_size, thread_name_prefix="eventyard-pg-read")
        if self._bus is None:
            self._bus = _NotificationBus(self.url, self.node_id, self.signals)
            self._bus.start()

    def close(self) -> None:
        if self._bus is not None:
            self._bus.stop()
            self._bus = None
        for threads in (self._write_threads, self._read_threads):
            if threads is not None:
                threads.shutdown(wait=True)
        self._write_threads = self._read_threads = None
        for pool in (self._writers, self._readers):
            pool.close()
        self._pools_open = False

    # -- the interface -----------------------------------------------------------------------------
    async def write(self, fn: Callable[[Connection], T], *, isolation: Isolation = Isolation.SERIALIZABLE) -> T:
        if self._write_threads is None:
            return self.run_sync(fn)
        level = _LEVELS[isolation]
        loop = asyncio.get_running_loop()
        backoff = 0.002
        duplicates = 0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await loop.run_in_executor(self._write_threads, self._attempt, self._writers, fn, level)
            except _RETRYABLE as error:
                if isinstance(error, psycopg.errors.UniqueViolation):
                    # A key a concurrent transaction took (invisible to our snapshot) is found on a fresh
                    # one; a function that inserts a duplicate itself keeps failing: that is its bug.
                    duplicates += 1
                    if duplicates > MAX_DUPLICATE_RETRIES:
                        raise
                if attempt == MAX_ATTEMPTS:
                    raise StorageUnavailable(f"PostgreSQL: gave up after {attempt} conflicting attempts: {error}") \
                        from error
                await asyncio.sleep(random.uniform(0, backoff))  # full jitter: the losers spread out
                backoff = min(0.2, backoff * 2)
        raise AssertionError("unreachable")

    async def read(self, fn: Callable[[Connection], T]) -> T:
        if self._read_threads is None:
            self._open_pools()
            return self._attempt(self._readers, fn)
        return await asyncio.get_running_loop().run_in_executor(self._read_threads, self._attempt, self._readers, fn)

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run one function in its own transaction on the calling thread (start-up, tests)."""
        self._open_pools()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._attempt(self._writers, fn, psycopg.IsolationLevel.SERIALIZABLE)
            except _RETRYABLE:
                if attempt == MAX_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _attempt(self, pool: ConnectionPool[Any], fn: Callable[[Connection], T],
                 level: psycopg.IsolationLevel | None = None) -> T:
        """One try of `fn` in one transaction: committed and its commit hooks run, or rolled back
        and its rollback hooks run (before any retry)."""
        try:
            with pool.connection() as raw:
                if level is not None and raw.isolation_level != level:
                    raw.isolation_level = level  # taken by the next BEGIN: no round trip
                view = PgConnection(raw)
                try:
                    result = fn(view)
                    raw.commit()
                except BaseException:
                    if not raw.closed:
                        try:
                            raw.rollback()
                        except psycopg.Error:
                            pass  # the connection is broken: the pool discards it
                    view.settle(False)
                    raise
                view.settle(True)
                return result
        except _RETRYABLE:
            raise
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise unavailable(error) from None

    def migrate(self, migrations: Iterable[Migration]) -> list[str]:
        """Apply new migrations, one node at a time (an advisory lock), each in one transaction."""
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
                try:
                    return self._apply(conn, list(migrations))
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        except psycopg.OperationalError as error:
            raise unavailable(error) from None

    @staticmethod
    def _apply(conn: psycopg.Connection[Any], migrations: list[Migration]) -> list[str]:
        conn.execute('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT COLLATE "C" PRIMARY KEY,'
                     " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        done = {row[0] for row in conn.execute("SELECT id FROM schema_migrations")}
        applied = []
        for migration in migrations:
            if migration.id in done:
                continue
            with conn.transaction():
                for statement in split_sql(migration.sql):
                    conn.execute(translate_ddl(statement).encode())  # bytes: no placeholder parsing
                conn.execute("INSERT INTO schema_migrations (id) VALUES (%s)", (migration.id,))
            applied.append(migration.id)
        return applied

    # -- signals -----------------------------------------------------------------------------------
    def subscribe(self, channel: str, listener: Listener) -> None:
        self.signals.subscribe(channel, listener)

    def notify(self, conn: Connection, channel: str, key: str) -> None:
        # NOTIFY inside the transaction is delivered by PostgreSQL at commit, and never on rollback.
        conn.execute(f"SELECT pg_notify('{CHANNEL}', ?)", (_payload(self.node_id, channel, key),))
        conn.on_commit(lambda: self.signals.dispatch(channel, key))

    def announce(self, channel: str, key: str) -> None:
        self.signals.dispatch(channel, key)
        if self._bus is not None:
            self._bus.announce(_payload(self.node_id, channel, key))


def _payload(node_id: str, channel: str, key: str) -> str:
    return f"{node_id}|{channel}|{key}"


class _NotificationBus:
    """Two threads with a connection each: one LISTENs and hands other nodes' signals to the loop,
    the other sends announcements in batches (NOTIFY outside the writers' commits, which would
    otherwise queue behind PostgreSQL's notification lock)."""

    RECONNECT = 1.0

    def __init__(self, url: str, node_id: str, signals: LocalSignals) -> None:
        self.url, self.node_id, self.signals = url, node_id, signals
        self._stop = threading.Event()
        self._pending: set[str] = set()
        self._have_pending = threading.Condition()
        self._threads = [threading.Thread(target=self._listen, name="eventyard-pg-listen", daemon=True),
                         threading.Thread(target=self._send, name="eventyard-pg-notify", daemon=True)]
        self.connected = threading.Event()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self.connected.wait(10)  # signals sent before other nodes listen are not needed, but ours should

    def stop(self) -> None:
        self._stop.set()
        with self._have_pending:
            self._have_pending.notify_all()
        for thread in self._threads:
            thread.join(5)

    def announce(self, payload: str) -> None:
        with self._have_pending:
            self._pending.add(payload)
            self._have_pending.notify()

    def _listen(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(pgsql.SQL("LISTEN {}").format(pgsql.Identifier(CHANNEL)))
                    self.connected.set()
                    if not first:  # signals may have been lost while we were away: everything may have changed
                        self.signals.dispatch_all()
                    first = False
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.5):
                            self._deliver(notice.payload)
            except psycopg.Error as error:
                log.warning("PostgreSQL listener lost its connection (%s); reconnecting", error)
                self._stop.wait(self.RECONNECT)

    def _deliver(self, payload: str) -> None:
        node, _, rest = payload.partition("|")
        if node == self.node_id:
            return  # this node dispatched it locally at commit already
        channel, _, key = rest.partition("|")
        self.signals.dispatch(channel, key)

    def _send(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.is_set():
            with self._have_pending:
                while not self._pending and not self._stop.is_set():
                    self._have_pending.wait()
                batch, self._pending = list(self._pending), set()
            if not batch:
                continue
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.url, autocommit=True)
                conn.execute(f"SELECT pg_notify('{CHANNEL}', p) FROM unnest(%s::text[]) AS p", (batch,))
                self._stop.wait(ANNOUNCE_PAUSE)  # a burst of commits shares the next NOTIFY
            except psycopg.Error as error:  # best effort: listeners also look again on their own
                log.warning("could not announce %d signals: %s", len(batch), error)
                conn = None
                self._stop.wait(self.RECONNECT)
        if conn is not None:
            conn.close()


def ensure_database(url: str) -> None:
    """Create the URL's database when it does not exist, with byte-order ("C") text comparison."""
    try:
        with psycopg.connect(url, connect_timeout=10):
            return
    except psycopg.errors.InvalidCatalogName:
        pass
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise StorageUnavailable(f"PostgreSQL does not answer: {error}") from error
    params = conninfo_to_dict(url)
    name = str(params.get("dbname") or params.get("user") or "")
    params["dbname"] = "postgres"
    with psycopg.connect(make_conninfo("", **params), autocommit=True, connect_timeout=10) as admin:
        try:
            admin.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
                          .format(pgsql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:  # another node created it first
            pass

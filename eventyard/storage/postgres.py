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
import logging
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import psycopg
import psycopg.errors
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from eventyard.storage.interface import (
    Connection,
    Isolation,
    Listener,
    Migration,
    StorageUnavailable,
    split_sql,
)
from eventyard.storage.pg_connection import (
    LEVELS,
    RETRYABLE,
    configure,
    row_maker,
    translate_ddl,
    unavailable,
)
from eventyard.storage.pg_pipeline import Pipe
from eventyard.storage.pg_transactions import BEGIN, MAX_ATTEMPTS, READ_ONLY, Link, Readers, attempt
from eventyard.storage.pg_writers import GroupWriters
from eventyard.storage.signals import LocalSignals

T = TypeVar("T")
log = logging.getLogger(__name__)

WRITERS = 4  # writer threads, a connection each: each commits what queued up meanwhile as one group
READERS = 4
SYNC_CONNECTIONS = 2  # for `run_sync` (start-up, migrations' neighbours, tests)
CHANNEL = "eventyard"  # the one LISTEN channel; payloads say node, signal channel and key
MIGRATION_LOCK = 0x6576_6E74  # advisory lock id: one node at a time applies migrations
SWITCH_INTERVAL = 0.0005  # seconds a thread may keep the GIL while another wants it (see `start`)
ANNOUNCE_PAUSE = 0.005  # between batches of announcements: wake-ups on other nodes wait at most this more


# -- the database --------------------------------------------------------------------------------
class PostgresDatabase:
    backend = "postgresql"
    shared = True

    def __init__(self, url: str, writers: int = WRITERS, readers: int = READERS) -> None:
        self.url = url
        self.node_id = uuid.uuid4().hex
        ensure_database(url)
        self._writer_count, self._reader_count = writers, readers
        self._sync = ConnectionPool(url, min_size=1, max_size=SYNC_CONNECTIONS, kwargs={"autocommit": True},
                                    configure=configure, open=False, name="eventyard-sync", timeout=30)
        self._group_writers: GroupWriters | None = None
        self._readers: Readers | None = None
        self.signals = LocalSignals()
        self._bus: _NotificationBus | None = None
        self._pool_open = False

    @property
    def path(self) -> str:
        """Where the data is, without a password (health shows it)."""
        params = conninfo_to_dict(self.url)
        params.pop("password", None)
        return make_conninfo("", **params)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"backend": self.backend, "path": self.path, "node": self.node_id}
        if self._group_writers is not None:
            stats = self._group_writers.stats
            described["group_commit"] = {"groups": stats.groups, "requests": stats.requests, "reruns": stats.reruns}
        return described

    def _connect(self) -> psycopg.Connection[Any]:
        """A connection of a writer or reader thread: transactions are begun explicitly (pg_transactions)."""
        conn = psycopg.connect(self.url, autocommit=True)
        configure(conn)
        return conn

    def _open_pool(self) -> None:
        if not self._pool_open:
            try:
                self._sync.open(wait=True, timeout=30)
            except PoolTimeout as error:
                raise StorageUnavailable(f"PostgreSQL at {self.path} does not answer: {error}") from error
            self._pool_open = True

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        # The writer and reader threads wait for PostgreSQL several times per group and then need the
        # GIL back from the event loop, which keeps it up to the switch interval (5 ms by default): a
        # group of 10 sends then waited tens of ms for the GIL, not for PostgreSQL.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._open_pool()
        try:
            self.signals.bind(asyncio.get_running_loop())
        except RuntimeError:
            self.signals.bind(None)
        if self._group_writers is None:
            self._group_writers = GroupWriters(self._connect, self._writer_count)
            self._group_writers.start()
            self._readers = Readers(self._connect, self._reader_count)
        if self._bus is None:
            self._bus = _NotificationBus(self.url, self.node_id, self.signals)
            self._bus.start()

    def close(self) -> None:
        if self._bus is not None:
            self._bus.stop()
            self._bus = None
        if self._group_writers is not None:
            self._group_writers.stop()
            self._group_writers = None
        if self._readers is not None:
            self._readers.stop()
            self._readers = None
        self._sync.close()
        self._pool_open = False

    # -- the interface -----------------------------------------------------------------------------
    async def write(self, fn: Callable[[Connection], T], *, isolation: Isolation = Isolation.SERIALIZABLE) -> T:
        """`fn` in a transaction committed before this returns: grouped with the writes of the same
        isolation level that queued up meanwhile (`pg_writers.py`), and run again alone when PostgreSQL
        refuses it for a concurrent transaction."""
        if self._group_writers is None:
            return self.run_sync(fn)
        result: T = await self._group_writers.submit(fn, LEVELS[isolation])
        return result

    async def read(self, fn: Callable[[Connection], T]) -> T:
        if self._readers is None:
            return self._run_on_pool(fn, READ_ONLY)
        result: T = await self._readers.read(fn)
        return result

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run one function in its own transaction on the calling thread (start-up, tests)."""
        for number in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._run_on_pool(fn, BEGIN[psycopg.IsolationLevel.SERIALIZABLE])
            except RETRYABLE:
                if number == MAX_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _run_on_pool(self, fn: Callable[[Connection], T], begin: bytes) -> T:
        self._open_pool()
        try:
            with self._sync.connection() as raw:
                result: T = attempt(Link(lambda: raw), fn, begin)
                return result
        except PoolTimeout as error:
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


_NOTIFY_MANY = f"SELECT pg_notify('{CHANNEL}', p) FROM unnest($1::text[]) AS p".encode()


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
            if not self._pending:  # otherwise the sender was woken already and has not taken them yet
                self._have_pending.notify()
            self._pending.add(payload)

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
                pipe = Pipe(conn, row_maker)  # libpq directly: psycopg's cursor cost more than the NOTIFY
                pipe.execute(_NOTIFY_MANY, (batch,))
                pipe.finish()
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

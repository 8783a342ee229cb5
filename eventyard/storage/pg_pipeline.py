"""One pipelined transaction driven through libpq directly: statements are queued, not awaited.

psycopg's cursors cost a request most of its PostgreSQL-side CPU: every `execute` builds a cursor,
converts the query, and polls the socket (a syscall and a GIL hand-off) to push the statement out.
Here a statement is dumped by psycopg's C transformer, queued in libpq's output buffer as a
prepared statement (parsed once per connection), and nothing touches the socket until the function
asks for rows or a row count, or the transaction commits: then one Sync sends everything queued
and the answers are read in order. A statement's error arrives with that Sync and fails the
transaction as it would have at its own statement.

The connection stays a psycopg connection (autocommit: the transaction is begun and committed
here); psycopg's own cursor is not used on it while a `Pipe` is open.
"""

from __future__ import annotations

import functools
import re
import select
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import psycopg
import psycopg.errors
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

MAX_PREPARED = 512  # statements kept parsed per connection; the least recently used is deallocated
NUL, NUL_STAND_IN = "\x00", "\U0010fffe"  # PostgreSQL text holds no NUL: see pg_connection.py

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?")
_OK = pq.ExecStatus.COMMAND_OK
_ROWS = pq.ExecStatus.TUPLES_OK
_ERROR = (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED, pq.ExecStatus.BAD_RESPONSE)
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_AUTO: dict[int, list[PyFormat]] = {}


@functools.lru_cache(maxsize=4096)
def numbered(sql: str) -> tuple[bytes, bool]:
    """Portable SQL with libpq's `$n` placeholders (a `?` inside a literal stays), and whether it may
    change data: anything but a plain SELECT, and a SELECT that sends a notification."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) != "?":
            return match.group(0)
        count += 1
        return f"${count}"

    head = sql.lstrip()[:6].upper()
    return _TOKENS.sub(replace, sql).encode(), head != "SELECT" or "pg_notify" in sql


def _formats(count: int) -> list[PyFormat]:
    formats = _AUTO.get(count)
    if formats is None:
        formats = _AUTO[count] = [PyFormat.AUTO] * count
    return formats


def without_nul(parameters: Iterable[Any]) -> tuple[Any, ...]:
    values = tuple(parameters)
    for value in values:
        if value.__class__ is str and NUL in value:
            return tuple(v.replace(NUL, NUL_STAND_IN) if v.__class__ is str else v for v in values)
    return values


class _Session:
    """What a connection keeps across transactions: its parsed statements and transformers."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.pgconn = conn.pgconn
        self.dumper = Transformer.from_context(conn)
        self.loader = Transformer.from_context(conn)
        self.prepared: OrderedDict[tuple[bytes, tuple[int, ...]], bytes] = OrderedDict()
        self.names = 0
        self.row_makers: dict[bytes, Callable[[Any], Any]] = {}  # by statement: its columns never change


_sessions: weakref.WeakKeyDictionary[psycopg.Connection[Any], _Session] = weakref.WeakKeyDictionary()


def session(conn: psycopg.Connection[Any]) -> _Session:
    found = _sessions.get(conn)
    if found is None or found.pgconn is not conn.pgconn:
        found = _sessions[conn] = _Session(conn)
    return found


# Reads whose answer may change within a transaction without it writing: locks, sequences, clocks.
_VOLATILE = re.compile(rb"\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)\b|random|nextval|setval|currval|lastval|clock_timestamp|"
                       rb"statement_timestamp|timeofday|uuid|txid|pg_", re.I)
_WRITES_TABLE = re.compile(rb"\s*(?:INSERT\s+INTO|UPDATE)\s+([A-Za-z_][A-Za-z0-9_]*)", re.I)
_WORDS = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_EVERYTHING = b""


@functools.lru_cache(maxsize=4096)
def _effect(sql: bytes) -> tuple[frozenset[bytes] | None, bytes | None]:
    """A read's words (the tables it may read are among them), None when its answer must not be shared;
    and the table a write changes: one named table for INSERT and UPDATE, `_EVERYTHING` for the rest
    (a DELETE may cascade to other tables), None for a read."""
    head = sql.lstrip()[:6].upper()
    if head == b"SELECT" and b"pg_notify" not in sql:
        return (None if _VOLATILE.search(sql) else frozenset(w.lower() for w in _WORDS.findall(sql))), None
    written = _WRITES_TABLE.match(sql)
    return None, (written.group(1).lower() if written else _EVERYTHING)


class _Reads:
    """The reads a transaction made, by statement and parameters, until it writes a table they name.

    In a group every member was taken before the first one ran, so an answer read for an earlier
    member was read while a later one's request was in flight: sharing it is that request reading
    at that moment. Under REPEATABLE READ and SERIALIZABLE the snapshot is the transaction's anyway."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[Any, tuple[Result, frozenset[bytes]]] = {}

    def find(self, sql: bytes, parameters: Sequence[Any]) -> tuple[Result | None, Any]:
        words, written = _effect(sql)
        if written is not None:
            self._forget(written)
            return None, None
        if words is None:
            return None, None
        try:
            key = (sql, tuple(parameters), tuple(map(type, parameters)))
            found = self._known.get(key)
        except TypeError:  # a parameter that cannot be a key (a list): not shared
            return None, None
        return (found[0] if found is not None else None), (key, words)

    def keep(self, key: Any, result: Result) -> None:
        statement_key, words = key
        self._known[statement_key] = (result, words)

    def _forget(self, table: bytes) -> None:
        if not self._known:
            return
        if table == _EVERYTHING:
            self._known.clear()
            return
        for key in [k for k, (_, words) in self._known.items() if table in words]:
            del self._known[key]


class Result:
    """A statement's answer, once it arrived: rows (sqlite3-like), or a row count."""

    __slots__ = ("_pipe", "_name", "_result", "_rows", "_position", "_source")

    def __init__(self, pipe: Pipe | None, name: bytes = b"", source: Result | None = None) -> None:
        self._name = name
        self._pipe = pipe  # None: a statement never sent (executemany of nothing)
        self._result: pq.abc.PGresult | None = None
        self._rows: list[Any] | None = None
        self._position = 0
        self._source = source  # the same read earlier in the transaction, whose answer this shares

    def _arrived(self) -> pq.abc.PGresult | None:
        if self._result is None:
            if self._source is not None:
                self._result = self._source._arrived()
            elif self._pipe is not None:
                self._pipe.sync()
        return self._result

    def _all(self) -> list[Any]:
        if self._rows is None:
            if self._source is not None:
                self._rows = self._source._all()
            else:
                result = self._arrived()
                self._rows = self._pipe.load(result, self._name) if self._pipe and result and result.status == _ROWS else []
        return self._rows

    @property
    def rowcount(self) -> int:
        result = self._arrived()
        count = result.command_tuples if result is not None else None
        return -1 if count is None else count

    def fetchone(self) -> Any:
        rows = self._all()
        if self._position >= len(rows):
            return None
        self._position += 1
        return rows[self._position - 1]

    def fetchall(self) -> list[Any]:
        rows = self._all()
        rest = rows[self._position:]  # a copy: a repeated read shares the rows
        self._position = len(rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


# A queued answer: the Result it is for (None: only checked), and the cache key when it is a Parse's.
_Key = tuple[bytes, tuple[int, ...]]
_Waiting = tuple[Result | None, _Key | None]


class Pipe:
    """One transaction's statements in libpq's pipeline mode, on one connection."""

    def __init__(self, conn: psycopg.Connection[Any], make_row: Callable[[pq.abc.PGresult], Callable[[Any], Any]]):
        self._session = session(conn)
        self._pgconn = self._session.pgconn
        self._make_row = make_row
        self._waiting: deque[_Waiting] = deque()
        self._reads = _Reads()
        self._blocking = self._pgconn.nonblocking
        self._pgconn.enter_pipeline_mode()
        self._pgconn.nonblocking = 1
        self._open = True

    # -- sending -----------------------------------------------------------------------------------
    def command(self, sql: bytes) -> None:
        """A statement without parameters whose answer only needs checking (BEGIN, COMMIT)."""
        self._pgconn.send_query_params(sql, None)
        self._waiting.append((None, None))

    def execute(self, sql: bytes, parameters: Sequence[Any]) -> Result:
        """Queue a statement. A read this transaction made already, of tables it has not written since,
        shares that answer instead of another round trip (`_Reads`)."""
        known, key = self._reads.find(sql, parameters)
        if known is not None:
            return Result(self, b"", known)
        result = self._send(sql, parameters)
        if key is not None:
            self._reads.keep(key, result)
        return result

    def _send(self, sql: bytes, parameters: Sequence[Any]) -> Result:
        values: Sequence[Any] = ()
        types: tuple[int, ...] = ()
        formats: Sequence[pq.Format] | None = None
        if parameters:
            dumper = self._session.dumper
            values = dumper.dump_sequence(without_nul(parameters), _formats(len(parameters)))
            types, formats = dumper.types or (), dumper.formats
        name = self._prepare(sql, types)
        self._pgconn.send_query_prepared(name, values, param_formats=formats)
        result = Result(self, name)
        self._waiting.append((result, None))
        return result

    def _prepare(self, sql: bytes, types: tuple[int, ...]) -> bytes:
        prepared = self._session.prepared
        key = (sql, types)
        name = prepared.get(key)
        if name is not None:
            prepared.move_to_end(key)
            return name
        self._session.names += 1
        name = prepared[key] = b"_ey%d" % self._session.names
        self._pgconn.send_prepare(name, sql, param_types=types)
        self._waiting.append((None, key))
        if len(prepared) > MAX_PREPARED:
            _, old_name = prepared.popitem(last=False)
            self._session.row_makers.pop(old_name, None)
            self._pgconn.send_query_params(b"DEALLOCATE " + old_name, None)
            self._waiting.append((None, None))
        return name

    # -- receiving ---------------------------------------------------------------------------------
    def sync(self) -> None:
        """Send what is queued with a Sync and read every answer up to it; raise the first error."""
        if not self._waiting:
            return
        self._pgconn.pipeline_sync()
        self._flush()
        error = None
        while self._waiting:
            whom, parsed = self._waiting.popleft()
            result = self._next()
            if result is None:
                raise psycopg.OperationalError("PostgreSQL answered fewer results than statements sent")
            while self._next() is not None:  # one result per statement, then a separator
                pass
            if result.status in _ERROR:
                if parsed is not None:  # a Parse that failed or was skipped left no statement
                    self._session.prepared.pop(parsed, None)
                if error is None:
                    error = self._raise_for(result)
            elif whom is not None:
                whom._result = result
        end = self._next()
        if end is None or end.status != _SYNC:
            raise psycopg.OperationalError("PostgreSQL's pipeline lost its Sync")
        if error is not None:
            raise error

    def load(self, result: pq.abc.PGresult, name: bytes) -> list[Any]:
        session = self._session
        make_row = session.row_makers.get(name)
        if make_row is None:
            make_row = session.row_makers[name] = self._make_row(result)
        session.loader.set_pgresult(result)
        return session.loader.load_rows(0, result.ntuples, make_row)

    def _raise_for(self, result: pq.abc.PGresult) -> BaseException:
        if result.status == pq.ExecStatus.PIPELINE_ABORTED:
            return psycopg.errors.PipelineAborted("pipeline aborted")
        return psycopg.errors.error_from_result(result, encoding=self._pgconn._encoding)

    def _flush(self) -> None:
        pgconn = self._pgconn
        while pgconn.flush() != 0:  # the server may answer while we send: read so it never blocks
            if _wait(pgconn.socket, select.POLLIN | select.POLLOUT) & select.POLLIN:
                pgconn.consume_input()

    def _next(self) -> pq.abc.PGresult | None:
        pgconn = self._pgconn
        while pgconn.is_busy():
            _wait(pgconn.socket, select.POLLIN)
            pgconn.consume_input()
        return pgconn.get_result()

    # -- ending ------------------------------------------------------------------------------------
    def commit(self) -> None:
        """Queue the COMMIT, send everything, raise the first error; the pipeline ends either way."""
        self.command(b"COMMIT")
        self.finish()

    def finish(self) -> None:
        """Send everything queued, raise the first error; the pipeline ends either way. Without a BEGIN,
        what was queued ran as one implicit transaction, committed at the Sync."""
        try:
            self.sync()
        finally:
            self.close()

    def close(self) -> None:
        """End pipeline mode, collecting the answers still on their way (their errors are not raised:
        the transaction failed already and is rolled back next)."""
        if not self._open:
            return
        self._open = False
        try:
            try:
                self.sync()
            except psycopg.Error:
                pass
            if self._pgconn.status == pq.ConnStatus.OK:
                self._pgconn.exit_pipeline_mode()
                self._pgconn.nonblocking = self._blocking
        except psycopg.Error:
            pass  # a broken connection: the caller closes it


def _wait(fd: int, events: int) -> int:
    """Block (the GIL released) until the socket is ready; the events that are."""
    poller = select.poll()
    poller.register(fd, events)
    ready = 0
    while not ready:
        for _, happened in poller.poll():
            ready |= happened
    return ready

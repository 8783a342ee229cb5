"""One PostgreSQL transaction on a thread's own connection, pipelined, retried when refused.

Every transaction runs in pipeline mode, BEGIN and COMMIT included: a statement is sent without
waiting for its answer, and the connection waits only when the function asks for rows or a row
count, and once at the end for the COMMIT. A send (read the queue; insert the message; count it)
then waits once instead of three times, and BEGIN and COMMIT ride along with the statements: on a
busy machine every wait is a trip through the scheduler, for this thread and for PostgreSQL's
backend. A statement's error arrives with the next answer waited for (or with the COMMIT's) and
fails the transaction as it would have at its own statement. Connections are in autocommit mode:
the transaction is begun and committed explicitly, inside its pipeline.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import psycopg.errors

from eventyard.storage.interface import Connection, StorageUnavailable
from eventyard.storage.pg_connection import RETRYABLE, PgConnection, row_maker, unavailable
from eventyard.storage.pg_pipeline import Pipe

MAX_ATTEMPTS = 30  # of a write whose transaction keeps losing to concurrent ones
MAX_DUPLICATE_RETRIES = 3

BEGIN = {level: f"BEGIN ISOLATION LEVEL {level.name.replace('_', ' ')}".encode() for level in psycopg.IsolationLevel}
READ_ONLY = b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"  # one snapshot for every statement of a read

Connect = Callable[[], psycopg.Connection[Any]]
Outcome = tuple[bool, Any]  # (True, the function's result) or (False, the exception to raise)


class Link:
    """A thread's own connection, opened (again, after it broke) when needed."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._raw: psycopg.Connection[Any] | None = None

    def connection(self) -> psycopg.Connection[Any]:
        raw = self._raw
        if raw is None or raw.closed or raw.broken:
            self.close()
            raw = self._raw = self._connect()
        return raw

    def rollback(self) -> None:
        raw = self._raw
        if raw is not None and not raw.closed:
            try:
                raw.rollback()
            except psycopg.Error:
                self.close()  # broken: the next transaction opens another

    def close(self) -> None:
        if self._raw is not None:
            try:
                self._raw.close()
            except psycopg.Error:
                pass
            self._raw = None


def attempt(link: Link, fn: Callable[[Connection], Any], begin: bytes) -> Any:
    """One try of `fn` in one transaction: committed and its commit hooks run, or rolled back and its
    rollback hooks run (before any retry)."""
    try:
        raw = link.connection()
        pipe = Pipe(raw, row_maker)
        view = PgConnection(raw, pipe)
        try:
            try:
                pipe.command(begin)
                result = fn(view)
            except BaseException:
                pipe.close()
                raise
            pipe.commit()  # sends what is still queued, waits for every answer: the COMMIT's too
        except BaseException:
            link.rollback()
            view.settle(False)
            raise
        view.settle(True)
        return result
    except RETRYABLE:
        raise
    except psycopg.OperationalError as error:
        link.close()
        raise unavailable(error) from None


def run_alone(link: Link, fn: Callable[[Connection], Any], begin: bytes) -> Outcome:
    """`fn` in a transaction of its own, run again while the database refuses it for a concurrent one."""
    backoff = 0.002
    duplicates = 0
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return True, attempt(link, fn, begin)
        except RETRYABLE as error:
            if isinstance(error, psycopg.errors.UniqueViolation):
                # A key a concurrent transaction took (invisible to our snapshot) is found on a fresh one;
                # a function that inserts a duplicate itself keeps failing: that is its bug.
                duplicates += 1
                if duplicates > MAX_DUPLICATE_RETRIES:
                    return False, error
            if number == MAX_ATTEMPTS:
                failure = StorageUnavailable(f"PostgreSQL: gave up after {number} conflicting attempts: {error}")
                failure.__cause__ = error
                return False, failure
            time.sleep(random.uniform(0, backoff))  # full jitter: the losers spread out
            backoff = min(0.2, backoff * 2)
        except Exception as error:
            return False, error
    raise AssertionError("unreachable")


class Readers:
    """Threads that each keep a connection of their own for reads (no pool to go through per read)."""

    def __init__(self, connect: Connect, threads: int) -> None:
        self._connect = connect
        self._local = threading.local()
        self._links: list[Link] = []
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="eventyard-pg-read")

    async def read(self, fn: Callable[[Connection], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._read, fn)

    def _read(self, fn: Callable[[Connection], Any]) -> Any:
        link: Link | None = getattr(self._local, "link", None)
        if link is None:
            link = self._local.link = Link(self._connect)
            with self._lock:
                self._links.append(link)
        return attempt(link, fn, READ_ONLY)

    def stop(self) -> None:
        self._threads.shutdown(wait=True)
        with self._lock:
            for link in self._links:
                link.close()
            self._links.clear()

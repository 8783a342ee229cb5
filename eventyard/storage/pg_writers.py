"""Group commit on PostgreSQL: a few writer threads, a connection each, commit writes in groups.

Each writer thread takes the writes waiting for it and runs those of one isolation level in ONE
transaction, one after the other, as SQLite's writer does; every caller is answered only after that
transaction committed (acknowledged = committed). A group pays one BEGIN, one COMMIT (one WAL
flush) and one hand-off back to the event loop for all its requests: most of what a small request
costs on its own. While one thread waits for PostgreSQL, the writes arriving meanwhile queue up for
the next free thread, so groups grow with the load and stay single at low load.

A request that fails without having changed anything (a domain error after its reads: the queue does
not exist, a parameter is refused) is simply left out, and its group goes on. A request that fails
after changing something, a database error, or a group the database refuses (a serialization failure,
a deadlock, a key a concurrent transaction took) rolls the group back, runs every member's rollback
hooks, and runs each member again in a transaction of its own, retried as `Database.write` promises.
No savepoints: they would cost every request a subtransaction to spare the rare failure a rerun.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from eventyard.storage.interface import Connection
from eventyard.storage.pg_connection import RETRYABLE, PgConnection, row_maker, unavailable
from eventyard.storage.pg_pipeline import Pipe
from eventyard.storage.pg_transactions import BEGIN, Connect, Link, Outcome, run_alone

MAX_TAKE = 128  # writes one thread takes at once (split by isolation level, then into groups)
# The largest group per isolation level. A serializable transaction's reads are tracked, and many in
# one group would conflict with most concurrent writers (and a conflict reruns the whole group alone).
GROUP_LIMITS = {psycopg.IsolationLevel.READ_COMMITTED: 64, psycopg.IsolationLevel.REPEATABLE_READ: 32,
                psycopg.IsolationLevel.SERIALIZABLE: 8}
_STOP = object()


@dataclass(slots=True)
class _Request:
    fn: Callable[[Connection], Any]
    level: psycopg.IsolationLevel
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


class _GroupSpoiled(Exception):
    """A member failed after changing something: the group's transaction cannot commit as it is."""


@dataclass
class GroupStats:
    groups: int = 0  # committed groups of more than one request
    requests: int = 0  # requests in them
    reruns: int = 0  # groups rolled back and run again one request at a time


class GroupWriters:
    """`threads` writer threads sharing one queue of writes; each commits what it took in groups."""

    def __init__(self, connect: Connect, threads: int) -> None:
        self._connect = connect
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._serve, name=f"eventyard-pg-write-{n}", daemon=True)
                         for n in range(threads)]
        self.stats = GroupStats()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()

    def submit(self, fn: Callable[[Connection], Any], level: psycopg.IsolationLevel) -> asyncio.Future[Any]:
        """Queue `fn` (from the event loop); the future settles once its transaction committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Request(fn, level, future, loop))
        return future

    # -- a writer thread -------------------------------------------------------------------------
    def _serve(self) -> None:
        link = Link(self._connect)
        try:
            while True:
                requests, stops = self._take()
                for level, members in _by_level(requests):
                    limit = GROUP_LIMITS[level]
                    for start in range(0, len(members), limit):
                        group = members[start:start + limit]
                        _deliver(group, self._run_group(link, level, group))
                if stops:
                    for _ in range(stops - 1):
                        self._queue.put(_STOP)  # other threads' stop signals, taken with ours
                    return
        finally:
            link.close()

    def _take(self) -> tuple[list[_Request], int]:
        """The writes waiting now (at least one: this blocks until there is one), and how many stop
        signals came with them."""
        taken = [self._queue.get()]
        while len(taken) < MAX_TAKE:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                break
        requests = [item for item in taken if item is not _STOP]
        return requests, len(taken) - len(requests)

    def _run_group(self, link: Link, level: psycopg.IsolationLevel, group: list[_Request]) -> list[Outcome]:
        if len(group) == 1:
            return [run_alone(link, group[0].fn, BEGIN[level])]
        views: list[PgConnection] = []
        try:
            outcomes = self._in_one_transaction(link.connection(), level, group, views)
        except (_GroupSpoiled, psycopg.Error) as error:
            link.rollback()
            for view in views:
                view.settle(False)
            # The connection failed: nobody was committed. (A serialization failure or a deadlock is an
            # OperationalError too, but a conflict: its members are run again below.)
            if isinstance(error, psycopg.OperationalError) and not isinstance(error, RETRYABLE):
                return [(False, unavailable(error))] * len(group)
            self.stats.reruns += 1  # a conflict, or a member's error after its changes: each runs alone
            return [run_alone(link, request.fn, BEGIN[level]) for request in group]
        except BaseException as error:
            link.rollback()
            for view in views:
                view.settle(False)
            return [(False, error)] * len(group)
        for view in views:
            view.settle(True)
        self.stats.groups += 1
        self.stats.requests += len(group)
        return outcomes

    @staticmethod
    def _in_one_transaction(raw: psycopg.Connection[Any], level: psycopg.IsolationLevel, group: list[_Request],
                            views: list[PgConnection]) -> list[Outcome]:
        """Run the group's functions in one pipelined transaction and commit it (raises when it cannot
        commit); `views` collects the connections of the members whose changes are in it."""
        outcomes: list[Outcome] = []
        pipe = Pipe(raw, row_maker)
        try:
            pipe.command(BEGIN[level])
            for request in group:
                view = PgConnection(raw, pipe)
                views.append(view)
                try:
                    outcomes.append((True, request.fn(view)))
                except Exception as error:
                    if view.wrote or isinstance(error, psycopg.Error):
                        raise _GroupSpoiled from error
                    views.pop().settle(False)  # it changed nothing: leave it out, the group goes on
                    outcomes.append((False, error))
        except BaseException:
            pipe.close()
            raise
        pipe.commit()  # sends what is still queued, waits for every answer: the COMMIT's too
        return outcomes


def _by_level(requests: list[_Request]) -> list[tuple[psycopg.IsolationLevel, list[_Request]]]:
    """The requests of each isolation level, each in the order they came (they were concurrent)."""
    levels: dict[psycopg.IsolationLevel, list[_Request]] = {}
    for request in requests:
        levels.setdefault(request.level, []).append(request)
    return list(levels.items())


def _deliver(group: list[_Request], outcomes: list[Outcome]) -> None:
    """Answer the group's callers, one hand-off per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
    for request, outcome in zip(group, outcomes, strict=True):
        by_loop.setdefault(request.loop, []).append((request.future, outcome))
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # the loop closed while we committed: nobody is waiting
            pass


def _settle(settled: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for future, (ok, value) in settled:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

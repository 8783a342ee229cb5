"""Durable timers: work that falls due at a time, stored in the database, fired at least once.

Services put a timer in the same transaction as the state it belongs to (an SNS delivery with its
message, a retry with its failure), so a crash can delay work but never lose it. A handler that
raises is retried by its kind's `RetryPolicy`; when the policy gives up, the kind's `on_exhausted`
runs (e.g. to send the work to a dead-letter queue).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from eventyard.runtime.clock import Clock
from eventyard.runtime.supervisor import Supervisor
from eventyard.storage.database import Migration, SqliteDatabase

log = logging.getLogger(__name__)

MIGRATIONS = [
    Migration(
        "runtime-0001-timers",
        """
        CREATE TABLE timers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            due_at REAL NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            lease_until REAL
        );
        CREATE INDEX timers_due ON timers (due_at)
        """,
    )
]

LEASE_SECONDS = 300.0  # a claimed timer is fired again if its handler has not finished by then
MAX_CONCURRENT = 64
IDLE_RECHECK = 1.0  # also notices time moved by tests and timers written by other nodes


@dataclass(frozen=True)
class Timer:
    id: int
    kind: str
    due_at: float
    payload: dict[str, Any]
    attempts: int  # including the current one
    created_at: float


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: base * multiplier**(attempt-1), capped, with optional full jitter."""

    max_attempts: int = 3
    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 300.0
    jitter: bool = False

    def delay(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * self.multiplier ** max(0, attempt - 1))
        return random.uniform(0, delay) if self.jitter else delay


class RetryLater(Exception):
    """Raised by a handler to be fired again after `delay` seconds, outside the retry policy."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay}s")
        self.delay = delay


Handler = Callable[[Timer], Awaitable[None]]
Exhausted = Callable[[Timer, BaseException], Awaitable[None]]


@dataclass
class _Kind:
    handler: Handler
    policy: RetryPolicy
    on_exhausted: Exhausted | None


def schedule(conn: sqlite3.Connection, kind: str, payload: dict[str, Any], due_at: float, now: float) -> int:
    """Add a timer inside the caller's transaction."""
    cursor = conn.execute(
        "INSERT INTO timers (kind, due_at, payload, created_at) VALUES (?, ?, ?, ?)",
        (kind, due_at, json.dumps(payload), now),
    )
    return int(cursor.lastrowid or 0)


def schedule_claimed(conn: sqlite3.Connection, kind: str, payload: dict[str, Any], now: float) -> Timer:
    """Add a timer that is due now and already claimed by this process, inside the caller's transaction.

    After the transaction commits, the caller hands it to `TimerService.fire` to run at once instead
    of waiting for the loop's next claim; the row stays the durable record until the firing ends.
    If the process dies first, the lease is cleared at start-up (or expires) and the loop fires it.
    """
    cursor = conn.execute(
        "INSERT INTO timers (kind, due_at, payload, created_at, attempts, lease_until) VALUES (?, ?, ?, ?, 1, ?)",
        (kind, now, json.dumps(payload), now, now + LEASE_SECONDS),
    )
    return Timer(int(cursor.lastrowid or 0), kind, now, payload, 1, now)


def cancel(conn: sqlite3.Connection, timer_id: int) -> bool:
    return conn.execute("DELETE FROM timers WHERE id = ?", (timer_id,)).rowcount > 0


class TimerService:
    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._kinds: dict[str, _Kind] = {}
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        # Timers whose handlers finished, deleted together by one write (see `_forget`).
        self._finished: list[int] = []
        self._flushing: asyncio.Task[None] | None = None

    def register(self, kind: str, handler: Handler, policy: RetryPolicy | None = None,
                 on_exhausted: Exhausted | None = None) -> None:
        self._kinds[kind] = _Kind(handler, policy or RetryPolicy(), on_exhausted)

    def wake(self) -> None:
        """Call after scheduling a timer that may be due before the loop's next look."""
        self._wake.set()

    async def schedule(self, kind: str, payload: dict[str, Any], delay: float = 0.0) -> int:
        now = self.clock.now()
        timer_id = await self.db.write(lambda conn: schedule(conn, kind, payload, now + delay, now))
        self.wake()
        return timer_id

    def fire(self, timer: Timer) -> None:
        """Run a timer made by `schedule_claimed` now, with the same retries and exhaustion as the loop."""
        task = asyncio.get_running_loop().create_task(self._fire_when_free(timer))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _fire_when_free(self, timer: Timer) -> None:
        await self._slots.acquire()
        await self._fire(timer)

    async def stop(self) -> None:
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        if self._finished:  # a timer not deleted now is fired again after a restart (at least once)
            await self._flush()

    async def recover(self) -> None:
        """Leases of a previous process of this single node died with it: fire those timers now."""
        await self.db.write(lambda conn: conn.execute("UPDATE timers SET lease_until = NULL"))

    def supervise(self, supervisor: Supervisor) -> None:
        supervisor.loop("timers", self.step, IDLE_RECHECK, wake=self._wake)

    async def step(self) -> float:
        """Claim and start every due timer; answer how long the loop may wait before looking again."""
        now = self.clock.now()
        kinds = list(self._kinds)
        due = await self.db.write(lambda conn: self._claim(conn, now, kinds))
        for timer in due:
            await self._slots.acquire()
            task = asyncio.get_running_loop().create_task(self._fire(timer))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        if len(due) >= 100:
            return 0.0
        next_due = await self.db.read(lambda conn: conn.execute(
            "SELECT MIN(due_at) FROM timers WHERE lease_until IS NULL").fetchone()[0])
        return IDLE_RECHECK if next_due is None else min(IDLE_RECHECK, max(0.0, next_due - self.clock.now()))

    def _claim(self, conn: sqlite3.Connection, now: float, kinds: list[str]) -> list[Timer]:
        if not kinds:
            return []
        marks = ",".join("?" * len(kinds))
        rows = conn.execute(
            f"SELECT * FROM timers WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) AND kind IN ({marks})"
            " ORDER BY due_at LIMIT 100",
            (now, now, *kinds),
        ).fetchall()
        conn.executemany("UPDATE timers SET lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                         [(now + LEASE_SECONDS, row["id"]) for row in rows])
        return [Timer(row["id"], row["kind"], row["due_at"], json.loads(row["payload"]), row["attempts"] + 1,
                      row["created_at"]) for row in rows]

    async def _fire(self, timer: Timer) -> None:
        try:
            await self._run_handler(timer)
        except Exception:  # storage failed while rescheduling: the lease expires and the loop fires it again
            log.exception("timer %s (%s) could not be rescheduled; it fires again after its lease", timer.id, timer.kind)
        finally:
            self._slots.release()

    async def _run_handler(self, timer: Timer) -> None:
        kind = self._kinds[timer.kind]
        try:
            await kind.handler(timer)
        except RetryLater as later:
            await self._reschedule(timer, later.delay, count_attempt=False)
        except Exception as error:  # the handler failed: retry by policy, or give up
            if timer.attempts < kind.policy.max_attempts:
                log.debug("timer %s (%s) failed, retrying: %s", timer.id, timer.kind, error)
                await self._reschedule(timer, kind.policy.delay(timer.attempts))
            else:
                await self._exhausted(timer, kind, error)
        else:
            self._forget(timer.id)

    def _forget(self, timer_id: int) -> None:
        """Delete a finished timer in the next batch: one write for every timer that finished meanwhile.

        Until that write commits, a crash fires the timer again: at least once, as before (handlers
        already tolerate a repeat, since a crash between handler and delete always could cause one)."""
        self._finished.append(timer_id)
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._finished:
                ids, self._finished = self._finished, []
                await self.db.write(lambda conn: conn.executemany(
                    "DELETE FROM timers WHERE id = ?", [(timer_id,) for timer_id in ids]))
        except Exception:  # those timers stay and fire again after their lease: at least once
            log.exception("could not delete finished timers")
        finally:
            self._flushing = None

    async def _reschedule(self, timer: Timer, delay: float, count_attempt: bool = True) -> None:
        due = self.clock.now() + delay
        await self.db.write(lambda conn: conn.execute(
            "UPDATE timers SET due_at = ?, lease_until = NULL, attempts = attempts - ? WHERE id = ?",
            (due, 0 if count_attempt else 1, timer.id)))
        self.wake()

    async def _exhausted(self, timer: Timer, kind: _Kind, error: BaseException) -> None:
        try:
            if kind.on_exhausted is not None:
                await kind.on_exhausted(timer, error)
        except Exception:  # keep the timer: it will be fired again after its lease
            log.exception("on_exhausted of timer %s (%s) failed", timer.id, timer.kind)
            return
        await self.db.write(lambda conn: cancel(conn, timer.id))

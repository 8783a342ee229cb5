"""Step Functions with several nodes on one database: who drives an execution, and what nodes tell
each other.

A STANDARD execution is driven by the node holding its lease (`stepfunctions:execution:<arn>`),
taken when its driver starts and handed back when the driver ends (the execution finished, or
parked at a Wait whose durable timer any node may fire). Every few seconds each node adopts the
RUNNING executions nobody holds: those of a node that died resume on a survivor from their last
checkpoint. Answers and heartbeats for task tokens, and UpdateMapRun, are stored by whichever node
receives them and signalled to the node whose driver waits; activity tasks are handed out from the
token rows, so a worker may ask any node. With one process (SQLite) all of this is the local path.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from eventyard.services.stepfunctions.integrations import settle
from eventyard.storage import Connection, Isolation, skip_locked

if TYPE_CHECKING:
    from eventyard.services.stepfunctions.runner import Runner

log = logging.getLogger(__name__)

EXECUTION_LEASE = "stepfunctions:execution:"
ADOPT_RECHECK = 3.0  # seconds between looks for executions no live node drives
TOKEN_CHANNEL = "stepfunctions:token"  # key: a token whose answer was stored
HEARTBEAT_CHANNEL = "stepfunctions:heartbeat"  # key: "<time>|<token>"
MAP_RUN_CHANNEL = "stepfunctions:map-run"  # key: "<max concurrency>|<map run ARN>"
ACTIVITY_CHANNEL = "stepfunctions:activity"  # key: an activity ARN with a task waiting


class Nodes:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.platform = runner.platform
        self.shared = self.platform.db.shared
        self.activity_waiters: dict[str, set[Any]] = {}

    def start(self) -> None:
        if not self.shared:
            return
        db = self.platform.db
        db.subscribe(TOKEN_CHANNEL, self._answered)
        db.subscribe(HEARTBEAT_CHANNEL, self._heartbeat)
        db.subscribe(MAP_RUN_CHANNEL, self._map_run_resized)
        db.subscribe(ACTIVITY_CHANNEL, self._activity_waiting)
        self.platform.supervisor.loop("stepfunctions:adopt", self._adopt, ADOPT_RECHECK)

    # -- who drives ----------------------------------------------------------------------------
    async def claim(self, arn: str) -> bool:
        """Whether this node may drive `arn` now (it holds, or just took, the execution's lease)."""
        return not self.shared or await self.platform.leases.hold(EXECUTION_LEASE + arn)

    async def release(self, arn: str) -> None:
        if self.shared and EXECUTION_LEASE + arn in self.platform.leases.held:
            try:
                await self.platform.leases.release(EXECUTION_LEASE + arn)
            except Exception:  # it expires by itself; another node adopts the execution then
                log.warning("could not hand back the lease of %s", arn, exc_info=True)

    async def _adopt(self) -> None:
        rows = await self.platform.db.read(lambda conn: conn.execute(
            "SELECT arn, checkpoint FROM sfn_executions WHERE status = 'RUNNING' AND type = 'STANDARD'").fetchall())
        taken = await self.platform.leases.taken_by_others(EXECUTION_LEASE)
        for row in rows:
            arn = row["arn"]
            if arn in self.runner.running or EXECUTION_LEASE + arn in taken:
                continue
            if json.loads(row["checkpoint"] or "{}").get("waiting_until"):
                continue  # parked at a Wait: its durable timer resumes it
            log.info("adopting execution %s (no live node drives it)", arn)
            self.runner.launch(arn)

    # -- signals from the node that received an answer ------------------------------------------
    def told(self, conn: Connection, channel: str, key: str) -> None:
        """Inside the transaction that stored it: tell the other nodes (a no-op with one process)."""
        if self.shared:
            self.platform.db.notify(conn, channel, key)

    def _answered(self, token: str | None) -> None:
        if token is not None and token in self.runner.tokens:
            self.platform.spawn(self._settle_from_row(token), f"stepfunctions:answer-{token[:8]}")

    async def _settle_from_row(self, token: str) -> None:
        row = await self.platform.db.read(lambda conn: conn.execute(
            "SELECT outcome FROM sfn_task_tokens WHERE token = ?", (token,)).fetchone())
        entry = self.runner.tokens.get(token)
        if row is not None and row["outcome"] is not None and entry is not None:
            settle(entry[0], json.loads(row["outcome"]))

    def _heartbeat(self, key: str | None) -> None:
        if not key:
            return
        stamp, _, token = key.partition("|")
        if token in self.runner.heartbeats:
            self.runner.heartbeats[token] = max(self.runner.heartbeats[token], float(stamp))

    def _map_run_resized(self, key: str | None) -> None:
        if key:
            size, _, run_arn = key.partition("|")
            self.runner.map_runs.resize(run_arn, int(size))

    # -- activity tasks ----------------------------------------------------------------------------
    def _activity_waiting(self, arn: str | None) -> None:
        for waiter in self.activity_waiters.pop(arn, set()) if arn else []:
            if not waiter.done():
                waiter.set_result(None)

    def announce_activity(self, arn: str) -> None:
        if self.shared:
            self.platform.db.announce(ACTIVITY_CHANNEL, arn)

    async def take_activity_task(self, arn: str) -> tuple[str, str] | None:
        """A waiting task of `arn` from any node's execution, handed to this worker only."""
        return await self.platform.db.write(lambda conn: _take_task(conn, arn), isolation=Isolation.COMMITTED)

    async def hand_over(self, token: str) -> bool:
        """Mark a task from this node's queue handed out, unless a worker on another node got it first."""
        return await self.platform.db.write(lambda conn: conn.execute(
            "UPDATE sfn_task_tokens SET dispatched = 1 WHERE token = ? AND dispatched = 0 RETURNING token",
            (token,)).fetchone() is not None, isolation=Isolation.COMMITTED)


def _take_task(conn: Connection, arn: str) -> tuple[str, str] | None:
    row = conn.execute(
        "UPDATE sfn_task_tokens SET dispatched = 1 WHERE token = (SELECT token FROM sfn_task_tokens"
        " WHERE activity_arn = ? AND dispatched = 0 AND outcome IS NULL AND input IS NOT NULL"
        f" ORDER BY created_at LIMIT 1{skip_locked(conn)}) RETURNING token, input",
        (arn,),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


async def next_activity_task(nodes: Nodes, arn: str, queue: Any, seconds: float) -> dict[str, str]:
    """GetActivityTask with several nodes: this node's queued tasks first, then any node's waiting
    task from the token rows; else wait for a signal (or re-check every second) up to `seconds`."""
    runner = nodes.runner
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while True:
        while not queue.empty():
            token, payload = queue.get_nowait()
            if token not in runner.tokens:
                continue  # its execution stopped, timed out or moved on
            if token in runner.durable_tokens and not await nodes.hand_over(token):
                continue  # a worker on another node got it first
            return {"taskToken": token, "input": payload}
        taken = await nodes.take_activity_task(arn)
        if taken is not None:
            return {"taskToken": taken[0], "input": taken[1]}
        left = until - loop.time()
        if left <= 0:
            return {}
        waiter = loop.create_future()
        nodes.activity_waiters.setdefault(arn, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter, min(1.0, left))
        except TimeoutError:
            pass
        finally:
            nodes.activity_waiters.get(arn, set()).discard(waiter)

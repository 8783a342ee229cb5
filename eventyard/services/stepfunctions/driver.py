"""Drives one STANDARD execution from its last checkpoint to its end (or to a durable stop: a Wait,
a retry back-off, a StopExecution).

Durable points, each one committed transaction:
- a top-level transition (`on_transition`): the history events so far, the next state, its input
  and the variables. A run of states without effects (Pass, Choice, Succeed, Fail) runs in memory
  and commits once, at the next state with an effect or the end (at most MAX_DEFERRED in a row);
- a top-level Wait or retry back-off (`wait`, `retry`): the checkpoint plus a durable timer; the
  driver ends (Suspend) and the runner's resume timer launches a new driver when it fires;
- a top-level task that hands out a task token (`task`): the token row, before any worker sees it;
- a top-level Map's iterations and Parallel's branches (`begin`, `save`): see asl/units.py.

Ownership: every commit first checks, in its own transaction, that the execution is still RUNNING
(`_still_running`). A StopExecution committed first wins: the commit writes nothing and the driver
ends (Suspend), whether or not the stop could cancel it (it cannot when another process served it).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from eventyard.asl import execution as asl_execution
from eventyard.asl import units
from eventyard.asl.history import History, Lane
from eventyard.asl.model import Checkpoint, Suspend, TaskRequest
from eventyard.asl.templates import parse_keeping_text
from eventyard.runtime import timers
from eventyard.services.stepfunctions import trace
from eventyard.services.stepfunctions.execution_logs import LogTarget
from eventyard.services.stepfunctions.host import ServiceHost
from eventyard.services.stepfunctions.schema import HISTORY_UPSERT, TOKEN_UPSERT
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.services.stepfunctions.runner import Runner

RESUME_TIMER = "stepfunctions.resume"
# States without an external effect: deterministic but for intrinsics whose values nobody saw until a
# commit, so a run of them can be replayed after a crash and needs no commit of its own.
PURE_STATES = frozenset({"Pass", "Choice", "Succeed", "Fail"})
MAX_DEFERRED = 100  # transitions a run of pure states may keep in memory before it commits anyway


def still_running(conn: Connection, arn: str) -> bool:
    """The ownership check of every driver commit: a stopped (or ended) execution takes no more."""
    row = conn.execute("SELECT status FROM sfn_executions WHERE arn = ?", (arn,)).fetchone()
    return row is not None and row["status"] == "RUNNING"


def _activity_of(request: TaskRequest) -> str | None:
    return request.resource if request.resource.split(":")[5:6] == ["activity"] else None


class ExecutionDriver:
    """One run of an execution's driver; it is the top-level frame's hooks (wait, retry, task) and
    the unit store (begin, save) of its top-level Map and Parallel states."""

    def __init__(self, runner: Runner, row: dict[str, Any]) -> None:
        self.runner = runner
        self.platform = runner.platform
        self.arn: str = row["arn"]
        self.row = row
        limit = json.loads(row["definition"]).get("TimeoutSeconds")
        self.deadline: float | None = row["started_at"] + limit if isinstance(limit, (int, float)) else None
        self.checkpoint: dict[str, Any] = json.loads(row["checkpoint"])
        self.history = History(self.platform.clock.now, next_id=row["next_event_id"])
        self.lane = Lane(row["last_event_id"])
        self.host = ServiceHost(runner, row["region"], row["account_id"], self.arn, trace.downstream(row),
                                row.get("role_arn"))
        self.interp = runner.interpreter(row, self.host, self.history)
        self.states: dict[str, Any] = self.interp.definition["States"]
        self.flushed = 0  # history.events[:flushed] are committed
        self.deferred = 0  # transitions run in memory since the last commit
        self.current: str | None = self.checkpoint["state"]  # the top-level state now running
        # the token a top-level task waits for, stored until the execution moves on
        self.live_token: str | None = (self.checkpoint.get("resume") or {}).get("token")
        self.unit_tokens: dict[int, str] = {}  # a parked unit's token, durable until the unit moves on
        self.log_target: LogTarget | None = None  # where the state machine logs its executions

    async def run(self) -> None:
        checkpoint, interp = self.checkpoint, self.interp
        machine = await self.platform.db.read(lambda conn: conn.execute(
            "SELECT arn, logging, created_at FROM sfn_state_machines WHERE arn = ?", (self.row["machine_arn"],)).fetchone())
        self.log_target = LogTarget.of(machine) if machine is not None else None
        interp.resume_after_wait = bool(checkpoint.get("resume_wait"))
        interp.resume = checkpoint.get("resume") if not checkpoint.get("waiting_until") else None
        if self.live_token is not None:
            self.runner.durable_tokens.add(self.live_token)
        if interp.resume is not None and interp.resume.get("kind") == "units":
            interp.resume = dict(interp.resume, units=await self._restore_units())
        for index, unit in ((interp.resume or {}).get("units") or {}).items():
            token = ((unit.get("position") or {}).get("resume") or {}).get("token")
            if token is not None:  # a parked unit's token from before the restart
                self.unit_tokens[index] = token
                self.runner.durable_tokens.add(token)
        interp.on_transition = self.on_transition
        interp.top_hooks = self
        interp.units = self
        state_input = checkpoint["input"]
        if state_input == json.loads(self.row["input"]):  # the execution's input, as the client sent it
            state_input = parse_keeping_text(self.row["input"])
        run = asl_execution.run(interp, checkpoint["state"], state_input, checkpoint.get("variables", {}), self.lane)
        outcome = await self.runner.bounded(run, self.deadline, self.host, self.history, self.lane)
        if outcome.status == "RUNNING":
            return
        events = self.history.events[self.flushed:]
        if await self.runner.finish(self.arn, outcome, events, self.history.next_id, self.lane.last):
            self._log(events)
        self._drop_live()

    def _log(self, events: list[dict[str, Any]]) -> None:
        self.runner.logs.ship(self.log_target, self.arn, self.row.get("redrive_count") or 0, events)

    async def _restore_units(self) -> dict[int, dict[str, Any]]:
        """The saved units of the top-level state the execution stopped in, their events appended to
        the history with new ids (and stored again with them, so a second restart finds the same)."""
        arn = self.arn
        rows = await self.platform.db.read(lambda conn: conn.execute(
            "SELECT unit, record FROM sfn_units WHERE execution_arn = ?", (arn,)).fetchall())
        restored = units.restore(self.history, {row["unit"]: json.loads(row["record"]) for row in rows})
        await self.platform.db.write(lambda conn: conn.executemany(
            "UPDATE sfn_units SET record = ? WHERE execution_arn = ? AND unit = ?",
            [(json.dumps(record), arn, index) for index, record in restored.items()]))
        return restored

    # -- the commits -------------------------------------------------------------------------------
    def _save(self, conn: Connection, checkpoint: dict[str, Any]) -> bool:
        """Commit the events not yet committed and `checkpoint`; False (nothing written) once stopped."""
        arn = self.arn
        # A StopExecution committed first wins: its ExecutionAborted took the next event id.
        if not still_running(conn, arn):
            return False
        conn.executemany(HISTORY_UPSERT, [(arn, e["id"], json.dumps(e)) for e in self.history.events[self.flushed:]])
        conn.execute("UPDATE sfn_executions SET checkpoint = ?, next_event_id = ?, last_event_id = ? "
                     "WHERE arn = ? AND status = 'RUNNING'",
                     (json.dumps(checkpoint), self.history.next_id, self.lane.last, arn))
        # Every top-level commit leaves the units (and their tokens) of a state behind.
        conn.execute("DELETE FROM sfn_units WHERE execution_arn = ?", (arn,))
        conn.execute("DELETE FROM sfn_task_tokens WHERE execution_arn = ? AND token != ?",
                     (arn, (checkpoint.get("resume") or {}).get("token") or ""))
        return True

    def _saved(self, count: int) -> None:
        """After a top-level commit: `count` events are committed, and earlier tokens are gone."""
        self._log(self.history.events[self.flushed:count])
        self.flushed = count
        self._drop_live()

    def _drop_live(self) -> None:
        if self.live_token is not None:
            self.runner.durable_tokens.discard(self.live_token)
            self.live_token = None
        for token in self.unit_tokens.values():
            self.runner.durable_tokens.discard(token)
        self.unit_tokens.clear()

    def _pure(self, name: str | None) -> bool:
        return name in self.states and self.states[name].get("Type") in PURE_STATES

    async def on_transition(self, cp: Checkpoint) -> None:
        ran, self.current = self.current, cp.state
        if cp.state is None:
            return
        if self._pure(ran) and self._pure(cp.state) and self.deferred < MAX_DEFERRED:
            # Nothing left the engine since the last commit: a crash replays from there.
            self.deferred += 1
            await asyncio.sleep(0)  # StopExecution and TimeoutSeconds get their turn between states
            return
        data = {"state": cp.state, "input": cp.input, "variables": cp.variables}
        count = len(self.history.events)
        if not await self.platform.db.write(lambda conn: self._save(conn, data)):
            raise Suspend()  # stopped (perhaps by another process): nothing more of it runs here
        self.deferred = 0
        self._saved(count)

    # -- the top-level frame's hooks ---------------------------------------------------------------
    async def task(self, checkpoint: Checkpoint, request: TaskRequest) -> None:
        """Commit the token (and the events so far) before any worker can see it."""
        assert request.task_token is not None
        data = {"state": checkpoint.state, "input": checkpoint.input, "variables": checkpoint.variables,
                "resume": checkpoint.resume}
        count = len(self.history.events)
        now = self.platform.clock.now()
        payload = json.dumps(request.parameters, separators=(",", ":"))

        def commit(conn: Connection) -> bool:
            if not self._save(conn, data):
                return False
            conn.execute(TOKEN_UPSERT, (request.task_token, self.arn, _activity_of(request), payload, now, now))
            return True

        if not await self.platform.db.write(commit):
            raise Suspend()  # stopped: the token must not leave the engine
        self._saved(count)
        self.live_token = request.task_token
        self.runner.durable_tokens.add(request.task_token)

    async def recorded(self) -> None:
        """Commit the events recorded while a top-level task waits (ActivityStarted); the checkpoint
        stays. The event counters only move forward: a commit that got in first already holds more."""
        count, next_id, last, arn = len(self.history.events), self.history.next_id, self.lane.last, self.arn
        events = self.history.events[:count]

        def commit(conn: Connection) -> None:
            if still_running(conn, arn):
                conn.executemany(HISTORY_UPSERT, [(arn, e["id"], json.dumps(e)) for e in events[self.flushed:]])
                conn.execute("UPDATE sfn_executions SET next_event_id = ?, last_event_id = ? "
                             "WHERE arn = ? AND status = 'RUNNING' AND next_event_id < ?", (next_id, last, arn, next_id))

        await self.platform.db.write(commit)
        if count > self.flushed:
            self._log(self.history.events[self.flushed:count])
            self.flushed = count

    async def retry(self, until: float, checkpoint: Checkpoint) -> None:
        resume = {k: v for k, v in (checkpoint.resume or {}).items() if k != "until"}  # the timer keeps the time
        await self._park({"state": checkpoint.state, "input": checkpoint.input, "variables": checkpoint.variables,
                          "waiting_until": until, "resume": resume}, until)

    async def wait(self, name: str, until: float, checkpoint: Checkpoint) -> None:
        await self._park({"state": name, "input": checkpoint.input, "variables": checkpoint.variables,
                          "waiting_until": until}, until)

    async def _park(self, data: dict[str, Any], until: float) -> None:
        """Commit the checkpoint and a resume timer, then end this driver (the timer starts the next)."""
        count = len(self.history.events)
        now = self.platform.clock.now()
        deadline = self.deadline

        def commit(conn: Connection) -> bool:
            if not self._save(conn, data):
                return False
            due = until if deadline is None else min(until, deadline)
            timers.schedule(conn, RESUME_TIMER, {"arn": self.arn, "deadline": deadline}, due, now)
            return True

        if not await self.platform.db.write(commit):
            raise Suspend()  # stopped: no timer wakes it
        self._saved(count)
        self.platform.timers.wake()
        raise Suspend()

    # -- the unit store of top-level Map and Parallel states ---------------------------------------
    async def begin(self, checkpoint: Checkpoint) -> None:
        data = {"state": checkpoint.state, "input": checkpoint.input, "variables": checkpoint.variables,
                "resume": checkpoint.resume}
        count = len(self.history.events)
        if not await self.platform.db.write(lambda conn: self._save(conn, data)):
            raise Suspend()  # stopped: no unit of the state starts
        self._saved(count)

    async def save(self, index: int, record: dict[str, Any], request: TaskRequest | None = None) -> None:
        now = self.platform.clock.now()
        old = self.unit_tokens.pop(index, None)
        arn = self.arn

        def save_unit(conn: Connection) -> bool:
            # Like a top-level commit, a unit's is dropped once a StopExecution was committed.
            if not still_running(conn, arn):
                return False
            conn.execute("INSERT INTO sfn_units (execution_arn, unit, record) VALUES (?,?,?) ON CONFLICT"
                         " (execution_arn, unit) DO UPDATE SET record = excluded.record",
                         (arn, index, json.dumps(record)))
            if old is not None:
                conn.execute("DELETE FROM sfn_task_tokens WHERE token = ?", (old,))
            if request is not None:
                conn.execute(TOKEN_UPSERT, (request.task_token, arn, _activity_of(request),
                                            json.dumps(request.parameters, separators=(",", ":")), now, now))
            return True

        if not await self.platform.db.write(save_unit):
            raise Suspend()  # stopped: a unit's token must not leave the engine either
        if old is not None:
            self.runner.durable_tokens.discard(old)
        if request is not None and request.task_token is not None:
            self.unit_tokens[index] = request.task_token
            self.runner.durable_tokens.add(request.task_token)

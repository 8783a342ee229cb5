"""Drives executions. STANDARD ones checkpoint at top-level transitions (history events, next state,
its input and the variables, in one commit; a run of states without effects - Pass, Choice,
Succeed, Fail - runs in memory and commits once, at the next state with an effect or the end),
park at top-level Wait states and retry back-offs behind a durable timer, commit a top-level
task's token before the token leaves the engine, and are resumed from their checkpoint after a
restart. EXPRESS ones run in memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventyard.asl import execution as asl_execution
from eventyard.asl import timestamps, units
from eventyard.asl.history import History, Lane
from eventyard.asl.interpreter import Interpreter
from eventyard.asl.model import Checkpoint, Engine, Suspend, TaskRequest
from eventyard.runtime import timers
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services.stepfunctions import map_runs
from eventyard.services.stepfunctions.schema import HISTORY_UPSERT, TOKEN_UPSERT
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

log = logging.getLogger(__name__)
RESUME_TIMER = "stepfunctions.resume"
POLL = 0.02  # how often a sleeping branch re-reads the (possibly test-advanced) clock
# States without an external effect: deterministic but for intrinsics whose values nobody saw until a
# commit, so a run of them can be replayed after a crash and needs no commit of its own.
PURE_STATES = frozenset({"Pass", "Choice", "Succeed", "Fail"})
MAX_DEFERRED = 100  # transitions a run of pure states may keep in memory before it commits anyway


def _running(conn: Connection, arn: str) -> bool:
    row = conn.execute("SELECT status FROM sfn_executions WHERE arn = ?", (arn,)).fetchone()
    return row is not None and row["status"] == "RUNNING"


class ServiceHost:
    """What the engine needs from the server: the clock, sleeping by that clock, and tasks."""

    def __init__(self, runner: Runner, region: str, account: str, execution_arn: str) -> None:
        self.runner = runner
        self.region = region
        self.account = account
        self.execution_arn = execution_arn

    def now(self) -> float:
        return self.runner.platform.clock.now()

    async def sleep_until(self, when: float) -> None:
        while True:
            remaining = when - self.now()
            if remaining <= 0:
                return
            await asyncio.sleep(min(POLL if remaining < 1 else 0.2, remaining))

    async def run_task(self, request: TaskRequest, interpreter: Engine) -> Any:
        from eventyard.services.stepfunctions.integrations import run_task

        return await run_task(self, request)


@dataclass
class _Hooks:
    """A top-level frame's durable points (see FrameHooks)."""

    on_wait: Callable[[str, float, Checkpoint], Awaitable[None]]
    on_retry: Callable[[float, Checkpoint], Awaitable[None]]
    on_task: Callable[[Checkpoint, TaskRequest], Awaitable[None]]

    async def wait(self, name: str, until: float, checkpoint: Checkpoint) -> None:
        await self.on_wait(name, until, checkpoint)

    async def retry(self, until: float, checkpoint: Checkpoint) -> None:
        await self.on_retry(until, checkpoint)

    async def task(self, checkpoint: Checkpoint, request: TaskRequest) -> None:
        await self.on_task(checkpoint, request)


@dataclass
class _Units:
    """Commits of a top-level Map's iterations and Parallel's branches (see units.UnitStore)."""

    on_begin: Callable[[Checkpoint], Awaitable[None]]
    on_save: Callable[..., Awaitable[None]]

    async def begin(self, checkpoint: Checkpoint) -> None:
        await self.on_begin(checkpoint)

    async def save(self, index: int, record: dict[str, Any], request: TaskRequest | None = None) -> None:
        await self.on_save(index, record, request)


class Runner:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.running: dict[str, asyncio.Task[Any]] = {}
        self.tokens: dict[str, tuple[asyncio.Future[Any], str]] = {}
        self.activity_queues: dict[str, asyncio.Queue[tuple[str, str]]] = {}
        self.done_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.heartbeats: dict[str, float] = {}  # task token -> clock time of its last heartbeat
        self.durable_tokens: set[str] = set()  # tokens with a sfn_task_tokens row
        self.map_runs = map_runs.MapRuns(platform)

    async def start(self) -> None:
        self.platform.timers.register(RESUME_TIMER, self._on_resume_timer,
                                      RetryPolicy(max_attempts=10, base_delay=1.0))
        rows = await self.platform.db.read(lambda conn: conn.execute(
            "SELECT arn, checkpoint FROM sfn_executions WHERE status = 'RUNNING' AND type = 'STANDARD'").fetchall())
        for row in rows:
            checkpoint = json.loads(row["checkpoint"] or "{}")
            if not checkpoint.get("waiting_until"):
                self.launch(row["arn"])

    def launch(self, arn: str) -> None:
        if arn in self.running:
            return
        # A failed drive (storage unavailable) runs again from the last checkpoint, as after a restart.
        task = self.platform.supervisor.job(f"stepfunctions:{arn}", lambda: self._drive(arn))
        self.running[arn] = task
        task.add_done_callback(lambda _t: self._finished(arn))

    def _finished(self, arn: str) -> None:
        self.running.pop(arn, None)
        for waiter in self.done_waiters.pop(arn, []):
            if not waiter.done():
                waiter.set_result(None)

    async def wait_done(self, arn: str) -> None:
        if arn not in self.running:
            return
        waiter = asyncio.get_running_loop().create_future()
        self.done_waiters.setdefault(arn, []).append(waiter)
        await waiter

    async def _on_resume_timer(self, timer: Timer) -> None:
        arn = timer.payload["arn"]
        now = self.platform.clock.now()

        def wake(conn: Connection) -> bool:
            row = conn.execute("SELECT status, checkpoint FROM sfn_executions WHERE arn = ?", (arn,)).fetchone()
            if row is None or row["status"] != "RUNNING":
                return False
            checkpoint = json.loads(row["checkpoint"])
            if checkpoint.get("waiting_until") is None:
                return True
            deadline = timer.payload.get("deadline")
            if deadline is not None and now >= deadline:
                return True  # the execution's TimeoutSeconds ends the Wait early
            if checkpoint["waiting_until"] > now + 0.001:
                return False
            if checkpoint.get("resume") is None:  # a Wait state; a retry back-off carries its own resume
                checkpoint["resume_wait"] = True
            checkpoint["waiting_until"] = None
            conn.execute("UPDATE sfn_executions SET checkpoint = ? WHERE arn = ?", (json.dumps(checkpoint), arn))
            return True

        if await self.platform.db.write(wake):
            self.launch(arn)

    def interpreter(self, row: dict[str, Any], host: ServiceHost, history: History) -> Interpreter:
        machine_arn = row["machine_arn"]
        definition = json.loads(row["definition"])
        execution = {"Id": row["arn"], "Input": json.loads(row["input"]), "Name": row["name"],
                     "RoleArn": row["role_arn"], "StartTime": timestamps.format_epoch(row["started_at"]),
                     "RedriveCount": row.get("redrive_count", 0)}
        interp = Interpreter(definition, execution, {"Id": machine_arn, "Name": machine_arn.split(":")[6]}, host,
                             history, token_factory=lambda: str(uuid.uuid4()), region=host.region)
        interp.map_runs = map_runs.ExecutionMapRuns(self.map_runs, row["arn"], machine_arn)
        return interp

    async def _drive(self, arn: str) -> None:
        row = await self.platform.db.read(lambda conn: dict(conn.execute(
            "SELECT * FROM sfn_executions WHERE arn = ?", (arn,)).fetchone()))
        if row["status"] != "RUNNING":
            return
        limit = json.loads(row["definition"]).get("TimeoutSeconds")
        deadline = row["started_at"] + limit if isinstance(limit, (int, float)) else None
        checkpoint = json.loads(row["checkpoint"])
        history = History(self.platform.clock.now, next_id=row["next_event_id"])
        lane = Lane(row["last_event_id"])
        host = ServiceHost(self, row["region"], row["account_id"], arn)
        interp = self.interpreter(row, host, history)
        interp.resume_after_wait = bool(checkpoint.get("resume_wait"))
        interp.resume = checkpoint.get("resume") if not checkpoint.get("waiting_until") else None
        # the token a top-level task waits for, stored until the execution moves on
        live_token: list[str | None] = [(checkpoint.get("resume") or {}).get("token")]
        if live_token[0] is not None:
            self.durable_tokens.add(live_token[0])
        if interp.resume is not None and interp.resume.get("kind") == "units":
            interp.resume = dict(interp.resume, units=await self._restore_units(arn, history))
        flushed = [0]
        states = interp.definition["States"]
        current: list[str | None] = [checkpoint["state"]]  # the top-level state now running
        deferred = [0]  # transitions run in memory since the last commit

        def pure(name: str | None) -> bool:
            return name in states and states[name].get("Type") in PURE_STATES

        def save(conn: Connection, cp: dict[str, Any]) -> bool:
            # A StopExecution committed first wins: its ExecutionAborted took the next event id.
            if not _running(conn, arn):
                return False
            events = history.events[flushed[0]:]
            conn.executemany(HISTORY_UPSERT,
                             [(arn, e["id"], json.dumps(e)) for e in events])
            conn.execute("UPDATE sfn_executions SET checkpoint = ?, next_event_id = ?, last_event_id = ? "
                         "WHERE arn = ? AND status = 'RUNNING'", (json.dumps(cp), history.next_id, lane.last, arn))
            # Every top-level commit leaves the units (and their tokens) of a state behind.
            conn.execute("DELETE FROM sfn_units WHERE execution_arn = ?", (arn,))
            conn.execute("DELETE FROM sfn_task_tokens WHERE execution_arn = ? AND token != ?",
                         (arn, (cp.get("resume") or {}).get("token") or ""))
            return True

        async def on_transition(cp: Checkpoint) -> None:
            ran, current[0] = current[0], cp.state
            if cp.state is None:
                return
            if pure(ran) and pure(cp.state) and deferred[0] < MAX_DEFERRED:
                # Nothing left the engine since the last commit: a crash replays from there.
                deferred[0] += 1
                await asyncio.sleep(0)  # StopExecution and TimeoutSeconds get their turn between states
                return
            data = {"state": cp.state, "input": cp.input, "variables": cp.variables}
            count = len(history.events)
            if not await self.platform.db.write(lambda conn: save(conn, data)):
                raise Suspend()  # stopped (perhaps by another process): nothing more of it runs here
            flushed[0] = count
            deferred[0] = 0
            drop_live()

        def drop_live() -> None:
            if live_token[0] is not None:
                self.durable_tokens.discard(live_token[0])
                live_token[0] = None
            for token in unit_tokens.values():
                self.durable_tokens.discard(token)
            unit_tokens.clear()

        unit_tokens: dict[int, str] = {}  # a parked unit's token, durable until the unit moves on

        async def begin_units(cp: Checkpoint) -> None:
            data = {"state": cp.state, "input": cp.input, "variables": cp.variables, "resume": cp.resume}
            count = len(history.events)
            if not await self.platform.db.write(lambda conn: save(conn, data)):
                raise Suspend()  # stopped: no unit of the state starts
            flushed[0] = count
            drop_live()

        async def save_unit(index: int, record: dict[str, Any], request: TaskRequest | None = None) -> None:
            now = self.platform.clock.now()
            old = unit_tokens.pop(index, None)
            activity = None
            if request is not None:
                activity = request.resource if request.resource.split(":")[5:6] == ["activity"] else None

            def commit(conn: Connection) -> bool:
                # Like a top-level commit, a unit's is dropped once a StopExecution was committed.
                if not _running(conn, arn):
                    return False
                conn.execute("INSERT INTO sfn_units (execution_arn, unit, record) VALUES (?,?,?) ON CONFLICT"
                             " (execution_arn, unit) DO UPDATE SET record = excluded.record", (arn, index, json.dumps(record)))
                if old is not None:
                    conn.execute("DELETE FROM sfn_task_tokens WHERE token = ?", (old,))
                if request is not None:
                    conn.execute(TOKEN_UPSERT,
                                 (request.task_token, arn, activity,
                                  json.dumps(request.parameters, separators=(",", ":")), now, now))
                return True

            if not await self.platform.db.write(commit):
                raise Suspend()  # stopped: a unit's token must not leave the engine either
            if old is not None:
                self.durable_tokens.discard(old)
            if request is not None and request.task_token is not None:
                unit_tokens[index] = request.task_token
                self.durable_tokens.add(request.task_token)

        for index, unit in ((interp.resume or {}).get("units") or {}).items():
            token = ((unit.get("position") or {}).get("resume") or {}).get("token")
            if token is not None:  # a parked unit's token from before the restart
                unit_tokens[index] = token
                self.durable_tokens.add(token)

        async def top_task(cp: Checkpoint, request: TaskRequest) -> None:
            """Commit the token (and the events so far) before any worker can see it."""
            assert request.task_token is not None
            data = {"state": cp.state, "input": cp.input, "variables": cp.variables, "resume": cp.resume}
            count = len(history.events)
            now = self.platform.clock.now()
            activity = request.resource if request.resource.split(":")[5:6] == ["activity"] else None
            payload = json.dumps(request.parameters, separators=(",", ":"))

            def commit(conn: Connection) -> bool:
                if not save(conn, data):
                    return False
                conn.execute(TOKEN_UPSERT,
                             (request.task_token, arn, activity, payload, now, now))
                return True

            if not await self.platform.db.write(commit):
                raise Suspend()  # stopped: the token must not leave the engine
            flushed[0] = count
            drop_live()
            live_token[0] = request.task_token
            self.durable_tokens.add(request.task_token)

        async def top_retry(until: float, cp: Checkpoint) -> None:
            resume = {k: v for k, v in (cp.resume or {}).items() if k != "until"}  # the timer keeps the time
            await park({"state": cp.state, "input": cp.input, "variables": cp.variables, "waiting_until": until,
                        "resume": resume}, until)

        async def top_wait(name: str, until: float, cp: Checkpoint) -> None:
            await park({"state": name, "input": cp.input, "variables": cp.variables, "waiting_until": until}, until)

        async def park(data: dict[str, Any], until: float) -> None:
            count = len(history.events)
            now = self.platform.clock.now()

            def commit(conn: Connection) -> bool:
                if not save(conn, data):
                    return False
                due = until if deadline is None else min(until, deadline)
                timers.schedule(conn, RESUME_TIMER, {"arn": arn, "deadline": deadline}, due, now)
                return True

            if not await self.platform.db.write(commit):
                raise Suspend()  # stopped: no timer wakes it
            flushed[0] = count
            drop_live()
            self.platform.timers.wake()
            raise Suspend()

        interp.on_transition = on_transition
        if row["type"] == "STANDARD":
            interp.top_hooks = _Hooks(top_wait, top_retry, top_task)
            interp.units = _Units(begin_units, save_unit)
        run = asl_execution.run(interp, checkpoint["state"], checkpoint["input"], checkpoint.get("variables", {}),
                                lane)
        outcome = await self._bounded(run, deadline, host, history, lane)
        if outcome.status == "RUNNING":
            return
        await self.finish(arn, outcome, history.events[flushed[0]:], history.next_id, lane.last)
        drop_live()

    async def _restore_units(self, arn: str, history: History) -> dict[int, dict[str, Any]]:
        """The saved units of the top-level state the execution stopped in, their events appended to
        `history` with new ids (and stored again with them, so a second restart finds the same)."""
        rows = await self.platform.db.read(lambda conn: conn.execute(
            "SELECT unit, record FROM sfn_units WHERE execution_arn = ?", (arn,)).fetchall())
        restored = units.restore(history, {row["unit"]: json.loads(row["record"]) for row in rows})
        await self.platform.db.write(lambda conn: conn.executemany(
            "UPDATE sfn_units SET record = ? WHERE execution_arn = ? AND unit = ?",
            [(json.dumps(record), arn, index) for index, record in restored.items()]))
        return restored

    async def _bounded(self, run: Any, deadline: float | None, host: ServiceHost, history: History,
                       lane: Lane) -> asl_execution.Outcome:
        """The execution's TimeoutSeconds: past it, the execution ends TIMED_OUT (States.Timeout)."""
        work = asyncio.ensure_future(run)
        if deadline is None:
            return await work
        timer = asyncio.ensure_future(host.sleep_until(deadline))
        try:
            done, _ = await asyncio.wait({work, timer}, return_when=asyncio.FIRST_COMPLETED)
            if work in done:
                return work.result()
        finally:
            timer.cancel()
        work.cancel()
        try:
            await work
        except BaseException:  # noqa: BLE001 - the cancelled run's end does not matter any more
            pass
        history.add(lane, "ExecutionTimedOut", "executionTimedOutEventDetails", {"error": "States.Timeout"})
        return asl_execution.Outcome("TIMED_OUT", None, "States.Timeout", None)

    async def finish(self, arn: str, outcome: asl_execution.Outcome, events: list[dict[str, Any]], next_id: int,
                     last_id: int) -> None:
        from eventyard.asl.templates import to_json

        now = self.platform.clock.now()

        def write(conn: Connection) -> bool:
            if not _running(conn, arn):  # stopped (ExecutionAborted is its last event)
                return False
            conn.executemany(HISTORY_UPSERT,
                             [(arn, e["id"], json.dumps(e)) for e in events])
            conn.execute("UPDATE sfn_executions SET status = ?, output = ?, error = ?, cause = ?, stopped_at = ?,"
                         " checkpoint = NULL, next_event_id = ?, last_event_id = ? WHERE arn = ? AND status = 'RUNNING'",
                         (outcome.status, to_json(outcome.output) if outcome.status == "SUCCEEDED" else None,
                          outcome.error, outcome.cause, now, next_id, last_id, arn))
            conn.execute("DELETE FROM sfn_task_tokens WHERE execution_arn = ?", (arn,))
            conn.execute("DELETE FROM sfn_units WHERE execution_arn = ?", (arn,))
            map_runs.abort_running(conn, arn, now)
            return True

        if await self.platform.db.write(write):
            await self.emit_status_event(arn)

    async def emit_status_event(self, arn: str, row: Any = None) -> None:
        """AWS sends 'Step Functions Execution Status Change' events (STANDARD executions only) to the
        default bus: one when the execution starts, one when it ends. `row`: the execution as it was
        at the change (a fast execution may have finished by the time its RUNNING event is sent)."""
        if "events" not in self.platform.services:
            return
        if row is None:
            row = await self.platform.db.read(lambda conn: conn.execute(
                "SELECT * FROM sfn_executions WHERE arn = ?", (arn,)).fetchone())
        if row is None:
            return
        row = dict(row)
        stopped, output = row.get("stopped_at"), row.get("output")
        detail = {"executionArn": arn, "stateMachineArn": row["machine_arn"], "name": row["name"],
                  "status": row["status"], "startDate": int(row["started_at"] * 1000),
                  "stopDate": int(stopped * 1000) if stopped else None,
                  "input": row["input"], "output": output, "inputDetails": {"included": True},
                  "outputDetails": {"included": True} if output is not None else None,
                  "error": row.get("error"), "cause": row.get("cause")}
        try:
            await self._send_service_event(row["account_id"], row["region"], arn, detail)
        except Exception:  # noqa: BLE001 - status events are best effort, as in AWS
            log.debug("status event for %s not delivered", arn, exc_info=True)

    async def _send_service_event(self, account: str, region: str, arn: str, detail: dict[str, Any]) -> None:
        """Put an `aws.states` event on the default bus through the events provider's intake for
        service events (PutEvents refuses `aws.*` sources from clients, as AWS does)."""
        provider: Any = self.platform.services["events"].provider
        await provider.put_service_event(account, region, "aws.states", "Step Functions Execution Status Change",
                                         detail, [arn])

    async def run_express(self, row: dict[str, Any]) -> tuple[asl_execution.Outcome, list[dict[str, Any]]]:
        history = History(self.platform.clock.now)
        lane = Lane()
        host = ServiceHost(self, row["region"], row["account_id"], row["arn"])
        interp = self.interpreter(row, host, history)
        asl_execution.record_start(interp, row["input"], row["role_arn"], lane)
        outcome = await asl_execution.run(interp, interp.definition["StartAt"], json.loads(row["input"]), {}, lane)
        return outcome, history.events

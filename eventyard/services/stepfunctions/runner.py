"""Runs executions. STANDARD ones are driven by an ExecutionDriver (driver.py: checkpoints,
durable Waits and back-offs, task tokens, units); EXPRESS ones run in memory.

Where an execution is (re)started, for whoever makes this multi-process:
- `Runner.start`: at server start, every RUNNING STANDARD execution not parked at a timer is resumed;
- `Runner.launch`: the one place a driver starts (StartExecution, RedriveExecution, resume timers);
- `Runner._on_resume_timer`: a parked execution's durable timer fired (claims the Wait, launches);
- `driver.still_running`: the ownership check inside every commit of a driver;
- `Runner.finish`: the terminal commit (also checks the execution is still RUNNING).
Task tokens: `Runner.tokens` (waiting futures, in memory), `durable_tokens` (tokens with a row in
sfn_task_tokens), see integrations.run_task and task_ops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from eventyard.asl import execution as asl_execution
from eventyard.asl import timestamps
from eventyard.asl.history import History, Lane
from eventyard.asl.interpreter import Interpreter
from eventyard.asl.templates import parse_keeping_text, to_json
from eventyard.runtime.ports import SERVICE_EVENTS
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services.stepfunctions import map_runs, trace
from eventyard.services.stepfunctions import metrics as sfn_metrics
from eventyard.services.stepfunctions.driver import RESUME_TIMER, ExecutionDriver, still_running
from eventyard.services.stepfunctions.execution_logs import ExecutionLogs
from eventyard.services.stepfunctions.host import ServiceHost
from eventyard.services.stepfunctions.nodes import Nodes
from eventyard.services.stepfunctions.schema import HISTORY_UPSERT
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

log = logging.getLogger(__name__)


class Runner:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.running: dict[str, asyncio.Task[Any]] = {}
        self.tokens: dict[str, tuple[asyncio.Future[Any], str]] = {}
        self.activity_queues: dict[str, asyncio.Queue[tuple[str, str]]] = {}
        # activity task token -> records ActivityStarted when a worker takes it (ServiceHost.run_task)
        self.activity_workers: dict[str, Callable[[str | None], Awaitable[None]]] = {}
        self.done_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.heartbeats: dict[str, float] = {}  # task token -> clock time of its last heartbeat
        self.durable_tokens: set[str] = set()  # tokens with a sfn_task_tokens row
        self.map_runs = map_runs.MapRuns(platform)
        self.nodes = Nodes(self)  # several nodes: who drives what, signals between nodes (nodes.py)
        self.logs = ExecutionLogs(platform)  # execution history to CloudWatch Logs

    async def start(self) -> None:
        self.logs.start()
        self.platform.timers.register(RESUME_TIMER, self._on_resume_timer,
                                      RetryPolicy(max_attempts=10, base_delay=1.0))
        self.nodes.start()
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
                     "RoleArn": row["role_arn"], "StartTime": timestamps.format_epoch(row["started_at"])}
        if not row.get("synchronous"):  # AWS: a StartSyncExecution's context object has no RedriveCount
            execution["RedriveCount"] = row.get("redrive_count", 0)
        interp = Interpreter(definition, execution, {"Id": machine_arn, "Name": machine_arn.split(":")[6]}, host,
                             history, token_factory=lambda: str(uuid.uuid4()), region=host.region)
        interp.map_runs = map_runs.ExecutionMapRuns(self.map_runs, row["arn"], machine_arn)
        return interp

    async def _drive(self, arn: str) -> None:
        if not await self.nodes.claim(arn):
            return  # another live node drives it
        try:
            row = await self.platform.db.read(lambda conn: dict(conn.execute(
                "SELECT * FROM sfn_executions WHERE arn = ?", (arn,)).fetchone()))
            if row["status"] != "RUNNING":
                return
            await ExecutionDriver(self, row).run()
        finally:
            await self.nodes.release(arn)

    async def bounded(self, run: Any, deadline: float | None, host: ServiceHost, history: History,
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
                     last_id: int) -> bool:
        """The terminal commit; False when the execution had ended already (stopped)."""
        now = self.platform.clock.now()

        def write(conn: Connection) -> bool:
            if not still_running(conn, arn):  # stopped (ExecutionAborted is its last event)
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

        if not await self.platform.db.write(write):
            return False
        await self.emit_status_event(arn)
        return True

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
        sfn_metrics.status_changed(self.platform.metrics, row)
        stopped, output = row.get("stopped_at"), row.get("output")
        detail = {"executionArn": arn, "stateMachineArn": row["machine_arn"], "name": row["name"],
                  "status": row["status"], "startDate": int(row["started_at"] * 1000),
                  "stopDate": int(stopped * 1000) if stopped else None,
                  "input": row["input"], "output": output, **_version_and_redrive(row),
                  "inputDetails": {"included": True},
                  "outputDetails": {"included": True} if output is not None else None,
                  "error": row.get("error"), "cause": row.get("cause")}
        try:
            await self._send_service_event(row["account_id"], row["region"], arn, detail)
        except Exception:  # noqa: BLE001 - status events are best effort, as in AWS
            log.debug("status event for %s not delivered", arn, exc_info=True)

    async def _send_service_event(self, account: str, region: str, arn: str, detail: dict[str, Any]) -> None:
        """Put an `aws.states` event on the default bus through EventBridge's intake for service events
        (the SERVICE_EVENTS port: PutEvents refuses `aws.*` sources from clients, as AWS does)."""
        events = self.platform.ports.get(SERVICE_EVENTS)
        await events.put_service_event(account, region, "aws.states", "Step Functions Execution Status Change",
                                       detail, [arn])

    async def run_express(self, row: dict[str, Any]) -> tuple[asl_execution.Outcome, list[dict[str, Any]]]:
        history = History(self.platform.clock.now)
        lane = Lane()
        host = ServiceHost(self, row["region"], row["account_id"], row["arn"], trace.downstream(row), row.get("role_arn"))
        interp = self.interpreter(row, host, history)
        asl_execution.record_start(interp, row["input"], row["role_arn"], lane)
        outcome = await asl_execution.run(interp, interp.definition["StartAt"], parse_keeping_text(row["input"]), {},
                                          lane)
        return outcome, history.events


def _version_and_redrive(row: dict[str, Any]) -> dict[str, Any]:
    """What a status change event says of the version, alias and redrives (recorded: null when none)."""
    status = row["status"]
    redrivable = status in ("FAILED", "ABORTED", "TIMED_OUT")
    redriven = row.get("redrive_at")
    return {"stateMachineVersionArn": row.get("version_arn") or None,
            "stateMachineAliasArn": row.get("alias_arn") or None,
            "redriveCount": row.get("redrive_count") or 0,
            "redriveDate": int(redriven * 1000) if redriven else None,
            "redriveStatus": "REDRIVABLE" if redrivable else "NOT_REDRIVABLE",
            "redriveStatusReason": None if redrivable else f"Execution is {status} and cannot be redriven"}

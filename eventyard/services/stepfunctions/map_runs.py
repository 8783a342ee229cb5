"""Map Runs: the resource AWS creates for each run of a distributed Map state (DescribeMapRun,
ListMapRuns, UpdateMapRun). The row is written when the Map Run starts and when it ends; item
counts of a running Map Run are kept in memory by the runner and shown by DescribeMapRun."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

COUNTS = ("pending", "running", "succeeded", "failed", "timedOut", "aborted", "total", "resultsWritten",
          "failuresNotRedrivable", "pendingRedrive")


@dataclass
class Live:
    """A running Map Run's counters: items (a batch counts its items) and child executions."""

    total_items: int
    total_executions: int
    items: dict[str, int] = field(default_factory=dict)
    executions: dict[str, int] = field(default_factory=dict)


class MapRuns:
    """The runner's side: the engine reports a distributed Map's start, each child's end, and the end."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.live: dict[str, Live] = {}
        self.limiters: dict[str, Any] = {}  # run ARN -> the running Map's Limiter (UpdateMapRun resizes it)

    def resize(self, run_arn: str, max_concurrency: int) -> None:
        limiter = self.limiters.get(run_arn)
        if limiter is not None:
            limiter.resize(max_concurrency)

    async def start(self, run_arn: str, execution_arn: str, machine_arn: str, total_items: int,
                    total_executions: int, max_concurrency: int, tolerated_count: float, tolerated_pct: float,
                    done: dict[str, tuple[int, int]], limiter: Any = None) -> None:
        """`done`: children that ended before a restart ("succeeded"/"failed": (executions, items))."""
        now = self.platform.clock.now()
        live = Live(total_items, total_executions)
        for status, (executions, items) in done.items():
            live.executions[status] = executions
            live.items[status] = items
        self.live[run_arn] = live
        if limiter is not None:
            self.limiters[run_arn] = limiter
        await self.platform.db.write(lambda conn: conn.execute(
            "INSERT INTO sfn_map_runs (arn, execution_arn, machine_arn, status, started_at, max_concurrency,"
            " tolerated_count, tolerated_pct, item_counts, execution_counts) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (arn) DO NOTHING",
            (run_arn, execution_arn, machine_arn, "RUNNING", now, max_concurrency, int(tolerated_count),
             float(tolerated_pct), "{}", "{}")))

    def child(self, run_arn: str, items: int, status: str) -> None:
        """A child execution started ("running") or ended ("succeeded"/"failed")."""
        live = self.live.get(run_arn)
        if live is None:
            return
        if status != "running":
            live.executions["running"] = live.executions.get("running", 0) - 1
            live.items["running"] = live.items.get("running", 0) - items
        live.executions[status] = live.executions.get(status, 0) + 1
        live.items[status] = live.items.get(status, 0) + items

    async def tolerated(self, run_arn: str) -> tuple[float, float]:
        """The tolerated failure count and percentage now (UpdateMapRun may have changed them)."""
        row = await self.platform.db.read(lambda conn: conn.execute(
            "SELECT tolerated_count, tolerated_pct FROM sfn_map_runs WHERE arn = ?", (run_arn,)).fetchone())
        return (row["tolerated_count"], row["tolerated_pct"]) if row else (0, 0.0)

    async def end(self, run_arn: str, status: str) -> None:
        live = self.live.pop(run_arn, None)
        self.limiters.pop(run_arn, None)
        now = self.platform.clock.now()
        items = json.dumps(counts(live.items, live.total_items)) if live else "{}"
        executions = json.dumps(counts(live.executions, live.total_executions)) if live else "{}"
        await self.platform.db.write(lambda conn: conn.execute(
            "UPDATE sfn_map_runs SET status = ?, stopped_at = ?, item_counts = ?, execution_counts = ? "
            "WHERE arn = ? AND status = 'RUNNING'", (status, now, items, executions, run_arn)))


@dataclass
class ExecutionMapRuns:
    """MapRuns as one execution's engine sees them (its ARN and state machine filled in)."""

    runs: MapRuns
    execution_arn: str
    machine_arn: str

    async def start(self, run_arn: str, total_items: int, total_executions: int, max_concurrency: int,
                    tolerated_count: float, tolerated_pct: float, done: dict[str, tuple[int, int]],
                    limiter: Any = None) -> None:
        await self.runs.start(run_arn, self.execution_arn, self.machine_arn, total_items, total_executions,
                              max_concurrency, tolerated_count, tolerated_pct, done, limiter)

    def child(self, run_arn: str, items: int, status: str) -> None:
        self.runs.child(run_arn, items, status)

    async def tolerated(self, run_arn: str) -> tuple[float, float]:
        return await self.runs.tolerated(run_arn)

    async def end(self, run_arn: str, status: str) -> None:
        await self.runs.end(run_arn, status)


def counts(counts: dict[str, int], total: int) -> dict[str, int]:
    out = {key: max(0, counts.get(key, 0)) for key in COUNTS}
    out["total"] = total
    out["pending"] = max(0, total - sum(out[k] for k in ("running", "succeeded", "failed", "timedOut", "aborted")))
    return out


def abort_running(conn: Connection, execution_arn: str, now: float) -> None:
    """An execution that ends while its Map Run runs ends the Map Run too (ABORTED)."""
    conn.execute("UPDATE sfn_map_runs SET status = 'ABORTED', stopped_at = ? WHERE execution_arn = ? AND "
                 "status = 'RUNNING'", (now, execution_arn))

"""The life of a Logs Insights query: Scheduled when StartQuery stores it (with a durable timer in the
same transaction), Running while the runner scans the groups' events newest first, then Complete
with its results and statistics, or Cancelled by StopQuery, or Failed. The scan reads pages of
events on the storage's read connections and the evaluation runs in a worker thread, so a large
query neither holds its events in memory at once nor stalls the server's event loop (the scan
reads every event in range, even past a `limit`, so the statistics count every match). Queries and
their results are kept for 7 days, as AWS keeps them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventyard.runtime import timers
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services.logs.insights import evaluator, records
from eventyard.services.logs.insights.functions import as_text
from eventyard.services.logs.insights.parser import parse_query
from eventyard.storage import Connection, Row

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

log = logging.getLogger(__name__)

TIMER_KIND = "logs:insights-query"
RETRY = RetryPolicy(max_attempts=3, base_delay=1.0)
PAGE = 2000
DEFAULT_LIMIT = 10_000
KEEP_SECONDS = 7 * 86_400
FINISHED = ("Complete", "Failed", "Cancelled", "Timeout")


class _Cancelled(Exception):
    pass


def create(conn: Connection, query_id: str, account_id: str, region: str, text: str, groups: list[str],
           start: int, end: int, limit: int | None, now: float, owner: str) -> Timer:
    conn.execute("INSERT INTO logs_queries (query_id, account_id, region, query_string, log_groups, start_time,"
                 " end_time, result_limit, status, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (query_id, account_id, region, text, json.dumps(groups), start, end, limit, "Scheduled", now))
    return timers.schedule_claimed(conn, TIMER_KIND, {"query_id": query_id}, now, owner)


def get(conn: Connection, account_id: str, region: str, query_id: str) -> Row | None:
    row = conn.execute("SELECT * FROM logs_queries WHERE query_id=?", (query_id,)).fetchone()
    if row is None or row["account_id"] != account_id or row["region"] != region:
        return None
    return row


def stop(conn: Connection, query_id: str, now: float) -> bool:
    return conn.execute("UPDATE logs_queries SET status='Cancelled', finished_at=? WHERE query_id=? AND status IN"
                        " ('Scheduled', 'Running')", (now, query_id)).rowcount > 0


def expire(conn: Connection, now: float) -> int:
    return int(conn.execute("DELETE FROM logs_queries WHERE created_at < ?", (now - KEEP_SECONDS,)).rowcount)


def results_of(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"queryLanguage": "CWLI", "status": row["status"],
                           "results": json.loads(row["results"]) if row["results"] else [],
                           "statistics": json.loads(row["statistics"]) if row["statistics"] else
                           {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}}
    return out


def describe(row: Row) -> dict[str, Any]:
    groups = json.loads(row["log_groups"])
    out: dict[str, Any] = {"queryLanguage": "CWLI", "queryId": row["query_id"], "queryString": stored_text(row),
                           "status": row["status"], "createTime": int(row["created_at"] * 1000)}
    if groups:
        out["logGroupName"] = groups[0]
    if row["finished_at"] is not None:
        out["queryDuration"] = int((row["finished_at"] - row["created_at"]) * 1000)
    if row["statistics"]:
        out["bytesScanned"] = json.loads(row["statistics"])["bytesScanned"]
    return out


def stored_text(row: Row) -> str:
    """The query as AWS stores it: its log groups and time range (in milliseconds, the end's last one
    included) put before the text. Recorded for one group (`SOURCE "g" START=1700000000000
    END=1700003600999 | fields @message`); several groups are listed the same way, one after another."""
    sources = " ".join(f'"{name}"' for name in json.loads(row["log_groups"]))
    return f"SOURCE {sources} START={row['start_time']}000 END={row['end_time']}999 | {row['query_string']}"


# -- running -----------------------------------------------------------------------------------
@dataclass
class _Scan:
    """Pages of a query's events, newest first, read from the event loop's thread on demand."""

    platform: Platform
    loop: asyncio.AbstractEventLoop
    query_id: str
    streams: dict[int, tuple[str, str]]  # stream id -> (stream name, @log)
    start_ms: int
    end_ms: int
    scanned: int = 0
    scanned_bytes: int = 0

    def records(self) -> Iterator[dict[str, Any]]:
        cursor: tuple[int, int] | None = None
        while self.streams:
            status, rows = asyncio.run_coroutine_threadsafe(
                self.platform.db.read(lambda conn: self._page(conn, cursor)), self.loop).result()
            if status != "Running":
                raise _Cancelled()
            for row in rows:
                self.scanned += 1
                self.scanned_bytes += len(row["message"].encode())
                stream, group = self.streams[row["stream_id"]]
                yield records.record(row["id"], row["timestamp"], row["ingestion_time"], row["message"], stream, group)
            if len(rows) < PAGE:
                return
            cursor = (rows[-1]["timestamp"], rows[-1]["id"])

    def _page(self, conn: Connection, cursor: tuple[int, int] | None) -> tuple[str, list[Row]]:
        status = conn.execute("SELECT status FROM logs_queries WHERE query_id=?", (self.query_id,)).fetchone()
        marks = ",".join("?" * len(self.streams))
        sql = (f"SELECT id, stream_id, timestamp, ingestion_time, message FROM logs_events WHERE stream_id IN ({marks})"
               " AND timestamp >= ? AND timestamp < ?")
        args: list[Any] = [*self.streams, self.start_ms, self.end_ms]
        if cursor is not None:
            sql += " AND (timestamp < ? OR (timestamp = ? AND id < ?))"
            args += [cursor[0], cursor[0], cursor[1]]
        rows = conn.execute(sql + " ORDER BY timestamp DESC, id DESC LIMIT ?", [*args, PAGE]).fetchall()
        return (status["status"] if status else "Cancelled"), rows


async def execute(platform: Platform, timer: Timer) -> None:
    """The timer handler: run one query to its end (a crash before that runs it again)."""
    query_id = timer.payload["query_id"]
    row = await platform.db.write(lambda conn: _begin(conn, query_id))
    if row is None:
        return
    streams = await platform.db.read(lambda conn: _streams(conn, row))
    scan = _Scan(platform, asyncio.get_running_loop(), query_id, streams, int(row["start_time"]) * 1000,
                 (int(row["end_time"]) + 1) * 1000)
    limit = int(row["result_limit"] or DEFAULT_LIMIT)
    try:
        outcome = await asyncio.to_thread(evaluator.run, parse_query(row["query_string"]), scan.records(), limit)
    except _Cancelled:
        return
    except Exception:  # a bug in evaluation must end the query, not retry it forever
        log.exception("Logs Insights query %s failed", query_id)
        await platform.db.write(lambda conn: _finish(conn, query_id, "Failed", [], scan, 0, platform.clock.now()))
        return
    rows = [_row(outcome, record) for record in outcome.rows]
    await platform.db.write(lambda conn: _finish(conn, query_id, "Complete", rows, scan, outcome.matched,
                                                 platform.clock.now()))


def _begin(conn: Connection, query_id: str) -> Row | None:
    return conn.execute("UPDATE logs_queries SET status='Running' WHERE query_id=? AND status IN ('Scheduled',"
                        " 'Running') RETURNING *", (query_id,)).fetchone()


def _streams(conn: Connection, row: Row) -> dict[int, tuple[str, str]]:
    groups = json.loads(row["log_groups"])
    if not groups:
        return {}
    marks = ",".join("?" * len(groups))
    found = conn.execute(f"SELECT s.id, s.name, g.name AS group_name FROM logs_streams s JOIN logs_groups g ON"
                         f" g.id = s.group_id WHERE g.account_id=? AND g.region=? AND g.name IN ({marks})",
                         (row["account_id"], row["region"], *groups)).fetchall()
    return {int(r["id"]): (r["name"], f"{row['account_id']}:{r['group_name']}") for r in found}


def _row(outcome: evaluator.Outcome, record: dict[str, Any]) -> list[dict[str, str]]:
    names = list(outcome.columns)
    if not outcome.aggregated and "@ptr" in record and "@ptr" not in names:
        names.append("@ptr")
    return [{"field": name, "value": as_text(record[name])} for name in names if record.get(name) is not None]


def _finish(conn: Connection, query_id: str, status: str, rows: list[list[dict[str, str]]], scan: _Scan,
            matched: int, now: float) -> None:
    statistics = {"recordsMatched": float(matched), "recordsScanned": float(scan.scanned),
                  "bytesScanned": float(scan.scanned_bytes)}
    conn.execute("UPDATE logs_queries SET status=?, results=?, statistics=?, finished_at=? WHERE query_id=? AND"
                 " status='Running'", (status, json.dumps(rows), json.dumps(statistics), now, query_id))

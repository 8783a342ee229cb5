"""The path of one traced flow across services: what `eventyard trace ID` prints and
`GET /_eventyard/trace/<id>` answers.

The id may be a trace id (`1-5f84c7a1-...`, or a whole `Root=...` header), or the id of anything a hop
is known by: a message id, an event id, an execution ARN, a Lambda request id. The hops come from
`tracing.py`'s records; a Step Functions execution's outcome and duration are read from the
execution itself (through `describe`, which the server supplies), since it may have ended after its
hop was written. Each hop shows when it happened, how long after the previous hop (`latencyMs`),
how long it took where the service measured it (`durationMs`), and its outcome.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from eventyard.runtime import tracing
from eventyard.storage import Database, Row

MAX_HOPS = 1000
Describe = Callable[[str, str, str], Awaitable[dict[str, Any] | None]]  # (execution ARN, region, account)


async def follow(db: Database, ident: str, describe: Describe | None = None) -> dict[str, Any] | None:
    """The trace `ident` names, or None when no hop knows it."""
    ident = ident.strip()
    roots = await db.read(lambda conn: _roots(conn, ident))
    if not roots:
        return None
    root = roots[-1]  # an id seen in several traces (a redriven message): the latest
    rows = await db.read(lambda conn: tracing.hops_of(conn, root)[:MAX_HOPS])
    hops = [await _hop(row, describe) for row in rows]
    previous: float | None = None
    for hop in hops:
        hop["latencyMs"] = None if previous is None else round((hop["timestamp"] - previous) * 1000, 2)
        previous = hop["timestamp"]
    return {"id": ident, "traceId": root, "hops": hops, "services": sorted({h["service"] for h in hops}),
            "otherTraceIds": roots[:-1]}


def _roots(conn: Any, ident: str) -> list[str]:
    header = tracing.parse(ident) if ident.startswith("Root=") else None
    if header is not None:
        return [header.root]
    if tracing.is_trace_id(ident):
        return [ident] if tracing.hops_of(conn, ident) else []
    return tracing.roots_of(conn, ident)


async def _hop(row: Row, describe: Describe | None) -> dict[str, Any]:
    hop: dict[str, Any] = {
        "service": row["service"], "operation": row["operation"], "resource": row["resource"], "id": row["ref"],
        "time": _iso(row["at"]), "timestamp": row["at"], "durationMs": row["latency_ms"], "outcome": row["outcome"],
        "segment": row["segment"], "parent": row["parent"], "region": row["region"], "account": row["account_id"]}
    if row["detail"]:
        hop["detail"] = json.loads(row["detail"])
    if row["service"] == "states" and row["outcome"] == "RUNNING" and describe is not None and row["ref"]:
        described = await describe(row["ref"], row["region"], row["account_id"])
        if described:
            hop["outcome"] = described["status"]
            if described.get("stopDate") is not None:
                hop["durationMs"] = round((float(described["stopDate"]) - float(described["startDate"])) * 1000, 2)
    return hop


def _iso(at: float) -> str:
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def as_text(path: dict[str, Any]) -> str:
    """The path as `eventyard trace` prints it: one line per hop, oldest first."""
    lines = [f"trace {path['traceId']}: {len(path['hops'])} hop(s) through {', '.join(path['services'])}"]
    header = ("time", "service", "operation", "resource", "latency", "duration", "outcome", "id")
    rows = [header] + [(h["time"], h["service"], h["operation"], h["resource"], _ms(h["latencyMs"]),
                        _ms(h["durationMs"]), h["outcome"], h["id"] or "") for h in path["hops"]]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header) - 1)]
    for row in rows:
        lines.append("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + str(row[-1]))
    if path.get("otherTraceIds"):
        lines.append(f"also in: {', '.join(path['otherTraceIds'])}")
    return "\n".join(line.rstrip() for line in lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"

"""Pipes in storage: one row per pipe holding its description (the DescribePipe shape plus private
keys that start with `_`), its tags and the checkpoint document of its source."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from eventyard.storage import Connection

Pipe = dict[str, Any]


def pipe_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:pipes:{region}:{account}:pipe/{name}"


def get(conn: Connection, account: str, region: str, name: str) -> Pipe | None:
    row = conn.execute("SELECT doc FROM pipes WHERE account_id = ? AND region = ? AND name = ?",
                       (account, region, name)).fetchone()
    return json.loads(row[0]) if row else None


def by_arn(conn: Connection, arn: str) -> tuple[Pipe, int] | None:
    row = conn.execute("SELECT doc, generation FROM pipes WHERE arn = ?", (arn,)).fetchone()
    return (json.loads(row[0]), int(row[1])) if row else None


def insert(conn: Connection, account: str, region: str, pipe: Pipe, tags: dict[str, str],
           positions: dict[str, Any], now: float) -> None:
    conn.execute("INSERT INTO pipes (arn, account_id, region, name, doc, tags, positions, generation, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
                 (pipe["Arn"], account, region, pipe["Name"], json.dumps(pipe), json.dumps(tags),
                  json.dumps(positions), now))


def save(conn: Connection, pipe: Pipe, bump: bool = True) -> int:
    """Store a changed pipe; with `bump`, a new generation (older transition timers then do nothing)."""
    row = conn.execute("UPDATE pipes SET doc = ?, generation = generation + ? WHERE arn = ? RETURNING generation",
                       (json.dumps(pipe), 1 if bump else 0, pipe["Arn"])).fetchone()
    return int(row[0]) if row else 0


def delete(conn: Connection, arn: str) -> None:
    conn.execute("DELETE FROM pipes WHERE arn = ?", (arn,))


def list_all(conn: Connection, account: str, region: str) -> list[Pipe]:
    rows = conn.execute("SELECT doc FROM pipes WHERE account_id = ? AND region = ? ORDER BY name",
                        (account, region)).fetchall()
    return [json.loads(r[0]) for r in rows]


def everywhere(conn: Connection) -> list[tuple[str, str, Pipe]]:
    rows = conn.execute("SELECT account_id, region, doc FROM pipes").fetchall()
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


def tags(conn: Connection, arn: str) -> dict[str, str] | None:
    row = conn.execute("SELECT tags FROM pipes WHERE arn = ?", (arn,)).fetchone()
    return json.loads(row[0]) if row else None


def set_tags(conn: Connection, arn: str, values: dict[str, str]) -> None:
    conn.execute("UPDATE pipes SET tags = ? WHERE arn = ?", (json.dumps(values), arn))


def positions(conn: Connection, arn: str) -> dict[str, Any]:
    row = conn.execute("SELECT positions FROM pipes WHERE arn = ?", (arn,)).fetchone()
    return json.loads(row[0]) if row else {}


def update_position(conn: Connection, arn: str, entry: str, update: Callable[[dict[str, Any]], None]) -> None:
    row = conn.execute("SELECT positions FROM pipes WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        return  # deleted meanwhile
    document = json.loads(row[0])
    update(document.setdefault(entry, {}))
    conn.execute("UPDATE pipes SET positions = ? WHERE arn = ?", (json.dumps(document), arn))


def public(pipe: Pipe) -> Pipe:
    return {k: v for k, v in pipe.items() if not k.startswith("_")}

"""Dashboards: a named JSON body per account (dashboards are global, not regional, as on AWS)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from eventyard.services.cloudwatch import errors
from eventyard.storage import Connection, Row

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
PAGE = 1000
MAX_BODY = 1024 * 1024


def dashboard_arn(account_id: str, name: str) -> str:
    return f"arn:aws:cloudwatch::{account_id}:dashboard/{name}"


def _check(name: str, body: str) -> None:
    if not _NAME.match(name):
        raise errors.dashboard_invalid("The value for field DashboardName contains invalid characters. It can only "
                                       "contain alphanumerics, dash (-) and underscore (_).")
    if len(body.encode()) > MAX_BODY:
        raise errors.dashboard_invalid("The field DashboardBody must not be larger than 1MB.")
    try:
        document = json.loads(body)
    except ValueError:
        raise errors.dashboard_invalid("The field DashboardBody must be a valid JSON object") from None
    if not isinstance(document, dict):
        raise errors.dashboard_invalid("The field DashboardBody must be a valid JSON object")
    widgets = document.get("widgets")
    if not isinstance(widgets, list):
        raise errors.dashboard_invalid("The dashboard body is invalid, there are 1 validation errors: "
                                       "[ { \"dataPath\": \"\", \"message\": \"Should have required property "
                                       "'widgets'\" } ]")


def put(conn: Connection, account_id: str, name: str, body: str, tags: dict[str, str], now: float) -> None:
    _check(name, body)
    conn.execute("INSERT INTO cw_dashboards (account_id, name, body, updated_at, tags) VALUES (?, ?, ?, ?, ?)"
                 " ON CONFLICT (account_id, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                 (account_id, name, body, now, json.dumps(tags)))


def get(conn: Connection, account_id: str, name: str) -> Row:
    row = conn.execute("SELECT * FROM cw_dashboards WHERE account_id = ? AND name = ?", (account_id, name)).fetchone()
    if row is None:
        raise errors.dashboard_not_found(name)
    return row


def describe(row: Row) -> dict[str, Any]:
    return {"DashboardArn": dashboard_arn(row["account_id"], row["name"]), "DashboardBody": row["body"],
            "DashboardName": row["name"]}


def listing(conn: Connection, account_id: str, prefix: str, token: str | None) -> dict[str, Any]:
    rows = conn.execute("SELECT * FROM cw_dashboards WHERE account_id = ? ORDER BY name", (account_id,)).fetchall()
    rows = [r for r in rows if r["name"].startswith(prefix)]
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token).decode())
        except ValueError:
            raise errors.invalid_next_token() from None
    page = rows[start:start + PAGE]
    out: dict[str, Any] = {"DashboardEntries": [
        {"DashboardName": r["name"], "DashboardArn": dashboard_arn(account_id, r["name"]), "LastModified": r["updated_at"],
         "Size": len(r["body"].encode())} for r in page]}
    if start + PAGE < len(rows):
        out["NextToken"] = base64.b64encode(str(start + PAGE).encode()).decode()
    return out


def delete(conn: Connection, account_id: str, names: list[str]) -> None:
    """All or nothing: one unknown name and none is deleted."""
    for name in names:
        get(conn, account_id, name)
    conn.executemany("DELETE FROM cw_dashboards WHERE account_id = ? AND name = ?", [(account_id, n) for n in names])


def tags(row: Row) -> dict[str, str]:
    return dict(json.loads(row["tags"]))


def set_tags(conn: Connection, account_id: str, name: str, values: dict[str, str]) -> None:
    conn.execute("UPDATE cw_dashboards SET tags = ? WHERE account_id = ? AND name = ?",
                 (json.dumps(values), account_id, name))

"""Alarm history: configuration changes, state changes and actions, kept 30 days as on AWS."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from eventyard.services.cloudwatch import errors
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.services.cloudwatch.alarms import Alarm

RETENTION = 30 * 86_400
DEFAULT_PAGE = 100
ITEM_TYPES = ("ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate",
              "AlarmContributorAction")


def add(conn: Connection, alarm: Alarm, now: float, item_type: str, summary: str, data: dict[str, Any]) -> None:
    add_item(conn, alarm.account_id, alarm.region, alarm.name, alarm.alarm_type, now, item_type, summary, data)


def add_item(conn: Connection, account_id: str, region: str, name: str, alarm_type: str, now: float, item_type: str,
             summary: str, data: dict[str, Any]) -> None:
    conn.execute("INSERT INTO cw_alarm_history (account_id, region, alarm_name, alarm_type, at, item_type, summary,"
                 " data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (account_id, region, name, alarm_type, now, item_type, summary,
                  json.dumps(data, separators=(",", ":"))))


def describe(conn: Connection, account_id: str, region: str, params: dict[str, Any], now: float) -> dict[str, Any]:
    sql = "SELECT * FROM cw_alarm_history WHERE account_id = ? AND region = ? AND at >= ?"
    args: list[Any] = [account_id, region, now - RETENTION]
    if params.get("AlarmName"):
        sql += " AND alarm_name = ?"
        args.append(params["AlarmName"])
    if params.get("HistoryItemType"):
        sql += " AND item_type = ?"
        args.append(params["HistoryItemType"])
    types = params.get("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"]
    sql += f" AND alarm_type IN ({','.join('?' * len(types))})"
    args.extend(types)
    if params.get("StartDate") is not None:
        sql += " AND at >= ?"
        args.append(float(params["StartDate"]))
    if params.get("EndDate") is not None:
        sql += " AND at <= ?"
        args.append(float(params["EndDate"]))
    ascending = params.get("ScanBy") == "TimestampAscending"
    sql += f" ORDER BY at {'ASC' if ascending else 'DESC'}, id {'ASC' if ascending else 'DESC'}"
    rows = conn.execute(sql, args).fetchall()
    size = params.get("MaxRecords") or DEFAULT_PAGE
    start = _offset(params.get("NextToken"))
    page = rows[start:start + size]
    result: dict[str, Any] = {"AlarmHistoryItems": [
        {"AlarmName": row["alarm_name"], "AlarmType": row["alarm_type"], "Timestamp": row["at"],
         "HistoryItemType": row["item_type"], "HistorySummary": row["summary"], "HistoryData": row["data"]}
        for row in page]}
    if start + size < len(rows):
        result["NextToken"] = base64.b64encode(str(start + size).encode()).decode()
    return result


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.b64decode(token).decode())
    except ValueError:
        raise errors.invalid_next_token() from None


def expire(conn: Connection, now: float) -> None:
    conn.execute("DELETE FROM cw_alarm_history WHERE at < ?", (now - RETENTION,))

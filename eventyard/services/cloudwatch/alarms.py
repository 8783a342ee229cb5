"""Alarms as stored: create, update, find, describe, delete, change state. Functions of a connection."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.services.cloudwatch import alarm_rule, errors, history
from eventyard.storage import Connection, Row

METRIC_ALARM = "MetricAlarm"
COMPOSITE_ALARM = "CompositeAlarm"
INITIAL_REASON = "Unchecked: Initial alarm creation"


def alarm_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}"


@dataclass
class Alarm:
    id: int
    account_id: str
    region: str
    name: str
    alarm_type: str
    config: dict[str, Any]
    actions_enabled: bool
    state_value: str
    state_reason: str
    state_reason_data: str | None
    state_updated_at: float
    state_transitioned_at: float
    config_updated_at: float
    next_evaluation_at: float | None
    tags: dict[str, str]

    @property
    def arn(self) -> str:
        return alarm_arn(self.region, self.account_id, self.name)

    @property
    def is_composite(self) -> bool:
        return self.alarm_type == COMPOSITE_ALARM

    def actions_for(self, state: str) -> list[str]:
        member = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}[state]
        return list(self.config.get(member) or [])

    def describe(self) -> dict[str, Any]:
        """The MetricAlarm or CompositeAlarm structure DescribeAlarms answers."""
        view: dict[str, Any] = {
            "AlarmName": self.name, "AlarmArn": self.arn,
            "AlarmConfigurationUpdatedTimestamp": self.config_updated_at, "ActionsEnabled": self.actions_enabled,
            "OKActions": [], "AlarmActions": [], "InsufficientDataActions": [],
            "StateValue": self.state_value, "StateReason": self.state_reason,
            "StateUpdatedTimestamp": self.state_updated_at, "StateTransitionedTimestamp": self.state_transitioned_at,
        }
        if self.state_reason_data:
            view["StateReasonData"] = self.state_reason_data
        view.update(self.config)
        if not self.is_composite:
            view.setdefault("Dimensions", [] if "Metrics" not in self.config else None)
        return {k: v for k, v in view.items() if v is not None}


def _from_row(row: Row) -> Alarm:
    return Alarm(
        id=int(row["id"]), account_id=row["account_id"], region=row["region"], name=row["name"],
        alarm_type=row["alarm_type"], config=json.loads(row["config"]), actions_enabled=bool(row["actions_enabled"]),
        state_value=row["state_value"], state_reason=row["state_reason"], state_reason_data=row["state_reason_data"],
        state_updated_at=row["state_updated_at"], state_transitioned_at=row["state_transitioned_at"],
        config_updated_at=row["config_updated_at"], next_evaluation_at=row["next_evaluation_at"],
        tags=json.loads(row["tags"]),
    )


def find(conn: Connection, account_id: str, region: str, name: str) -> Alarm | None:
    row = conn.execute("SELECT * FROM cw_alarms WHERE account_id = ? AND region = ? AND name = ?",
                       (account_id, region, name)).fetchone()
    return _from_row(row) if row else None


def get(conn: Connection, account_id: str, region: str, name: str) -> Alarm:
    alarm = find(conn, account_id, region, name)
    if alarm is None:
        raise errors.alarm_not_found(name)
    return alarm


def by_id(conn: Connection, alarm_id: int) -> Alarm | None:
    row = conn.execute("SELECT * FROM cw_alarms WHERE id = ?", (alarm_id,)).fetchone()
    return _from_row(row) if row else None


def all_in(conn: Connection, account_id: str, region: str) -> list[Alarm]:
    rows = conn.execute("SELECT * FROM cw_alarms WHERE account_id = ? AND region = ? ORDER BY name",
                        (account_id, region)).fetchall()
    return [_from_row(row) for row in rows]


def name_of(reference: str) -> str:
    """An AlarmRule names an alarm by its name or its ARN."""
    return reference.split(":alarm:", 1)[1] if ":alarm:" in reference else reference


def put(conn: Connection, account_id: str, region: str, name: str, alarm_type: str, config: dict[str, Any],
        actions_enabled: bool, tags: dict[str, str], now: float, next_evaluation_at: float | None) -> tuple[Alarm, bool]:
    """Create an alarm, or replace an existing one's configuration (its state is kept, as on AWS).
    Answers the alarm and whether it was created."""
    existing = find(conn, account_id, region, name)
    if existing is not None and existing.alarm_type != alarm_type:
        raise errors.validation(f"The alarm {name} already exists as a {existing.alarm_type}.")
    if existing is None:
        conn.execute(
            "INSERT INTO cw_alarms (account_id, region, name, alarm_type, config, actions_enabled, state_value,"
            " state_reason, state_reason_data, state_updated_at, state_transitioned_at, config_updated_at,"
            " next_evaluation_at, tags) VALUES (?, ?, ?, ?, ?, ?, 'INSUFFICIENT_DATA', ?, NULL, ?, ?, ?, ?, ?)",
            (account_id, region, name, alarm_type, json.dumps(config), int(actions_enabled), INITIAL_REASON, now, now,
             now, next_evaluation_at, json.dumps(tags)))
        created = get(conn, account_id, region, name)
        history.add(conn, created, now, "ConfigurationUpdate", f'Alarm "{name}" created',
                    {"type": "Create", "version": "1.0", "createdAlarm": _history_view(created)})
        return created, True
    conn.execute("UPDATE cw_alarms SET config = ?, actions_enabled = ?, config_updated_at = ?, next_evaluation_at = ?"
                 " WHERE id = ?", (json.dumps(config), int(actions_enabled), now, next_evaluation_at, existing.id))
    updated = get(conn, account_id, region, name)
    history.add(conn, updated, now, "ConfigurationUpdate", f'Alarm "{name}" updated',
                {"type": "Update", "version": "1.0", "oldState": _history_view(existing),
                 "newState": _history_view(updated)})
    return updated, False


def _history_view(alarm: Alarm) -> dict[str, Any]:
    view = alarm.describe()
    for stamp in ("AlarmConfigurationUpdatedTimestamp", "StateUpdatedTimestamp", "StateTransitionedTimestamp"):
        view.pop(stamp, None)
    return {k[:1].lower() + k[1:]: v for k, v in view.items()}


def set_state(conn: Connection, alarm: Alarm, state: str, reason: str, reason_data: str | None, now: float) -> Alarm:
    transitioned = now if state != alarm.state_value else alarm.state_transitioned_at
    conn.execute("UPDATE cw_alarms SET state_value = ?, state_reason = ?, state_reason_data = ?, state_updated_at = ?,"
                 " state_transitioned_at = ? WHERE id = ?", (state, reason, reason_data, now, transitioned, alarm.id))
    old = alarm
    new = Alarm(**{**alarm.__dict__, "state_value": state, "state_reason": reason, "state_reason_data": reason_data,
                   "state_updated_at": now, "state_transitioned_at": transitioned})
    new_state: dict[str, Any] = {"stateValue": state, "stateReason": reason}
    if reason_data:
        try:
            new_state["stateReasonData"] = json.loads(reason_data)
        except ValueError:
            new_state["stateReasonData"] = reason_data
    old_state: dict[str, Any] = {"stateValue": old.state_value, "stateReason": old.state_reason}
    if old.state_reason_data:
        try:
            old_state["stateReasonData"] = json.loads(old.state_reason_data)
        except ValueError:
            old_state["stateReasonData"] = old.state_reason_data
    history.add(conn, new, now, "StateUpdate", f"Alarm updated from {old.state_value} to {state}",
                {"version": "1.0", "oldState": old_state, "newState": new_state})
    return new


def schedule_evaluation(conn: Connection, alarm: Alarm, next_at: float | None) -> None:
    conn.execute("UPDATE cw_alarms SET next_evaluation_at = ? WHERE id = ?", (next_at, alarm.id))


def set_actions_enabled(conn: Connection, account_id: str, region: str, names: list[str], enabled: bool) -> None:
    conn.executemany("UPDATE cw_alarms SET actions_enabled = ? WHERE account_id = ? AND region = ? AND name = ?",
                     [(int(enabled), account_id, region, name) for name in names])


def delete(conn: Connection, account_id: str, region: str, names: list[str]) -> None:
    """Delete the named alarms that exist (unknown names are passed over, as AWS does). A composite
    alarm that another composite alarm's rule still names cannot be deleted."""
    doomed = [a for a in (find(conn, account_id, region, n) for n in names) if a is not None]
    if sum(1 for a in doomed if a.is_composite) > 1:
        raise errors.validation("You can delete at most one composite alarm in one DeleteAlarms call.")
    doomed_names = {a.name for a in doomed}
    for alarm in doomed:
        if alarm.is_composite:
            for parent in parents_of(conn, account_id, region, alarm.name):
                if parent.name not in doomed_names:
                    raise errors.resource_conflict(f"The composite alarm {alarm.name} is referenced in the alarm "
                                                   f"rule of {parent.name}.")
    conn.executemany("DELETE FROM cw_alarms WHERE id = ?", [(a.id,) for a in doomed])


def parents_of(conn: Connection, account_id: str, region: str, name: str) -> list[Alarm]:
    """Composite alarms whose rule names this alarm (only composite alarms are read: this runs on
    every state change)."""
    rows = conn.execute("SELECT * FROM cw_alarms WHERE account_id = ? AND region = ? AND alarm_type = ?"
                        " ORDER BY name", (account_id, region, COMPOSITE_ALARM)).fetchall()
    out = []
    for alarm in map(_from_row, rows):
        children = {name_of(c) for c in alarm_rule.children(alarm_rule.parse(alarm.config["AlarmRule"]))}
        if name in children:
            out.append(alarm)
    return out


def matching(conn: Connection, account_id: str, region: str, types: list[str], names: list[str] | None = None,
             prefix: str | None = None, state: str | None = None, limit: int | None = None) -> list[Alarm]:
    """Alarms by name, name prefix, type and state, in name order, filtered by the database."""
    sql = f"SELECT * FROM cw_alarms WHERE account_id = ? AND region = ? AND alarm_type IN ({','.join('?' * len(types))})"
    args: list[object] = [account_id, region, *types]
    if names:
        sql += f" AND name IN ({','.join('?' * len(names))})"
        args.extend(names)
    if prefix:
        sql += " AND substr(name, 1, ?) = ?"
        args.extend([len(prefix), prefix])
    if state:
        sql += " AND state_value = ?"
        args.append(state)
    sql += " ORDER BY name"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [_from_row(row) for row in conn.execute(sql, args).fetchall()]


def set_tags(conn: Connection, alarm: Alarm, tags: dict[str, str]) -> None:
    conn.execute("UPDATE cw_alarms SET tags = ? WHERE id = ?", (json.dumps(tags), alarm.id))


def due(conn: Connection, now: float, limit: int) -> list[Alarm]:
    rows = conn.execute("SELECT * FROM cw_alarms WHERE next_evaluation_at IS NOT NULL AND next_evaluation_at <= ?"
                        " ORDER BY next_evaluation_at LIMIT ?", (now, limit)).fetchall()
    return [_from_row(row) for row in rows]


def next_due(conn: Connection) -> float | None:
    row = conn.execute("SELECT MIN(next_evaluation_at) FROM cw_alarms").fetchone()
    return None if row is None or row[0] is None else float(row[0])

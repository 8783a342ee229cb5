"""DescribeAlarms and DescribeAlarmsForMetric: filters and pages over stored alarms."""

from __future__ import annotations

import base64
from typing import Any

from eventyard.services.cloudwatch import alarm_rule, errors
from eventyard.services.cloudwatch.alarms import (
    COMPOSITE_ALARM,
    METRIC_ALARM,
    Alarm,
    all_in,
    find,
    matching,
    name_of,
    parents_of,
)
from eventyard.services.cloudwatch.series import MetricSpec
from eventyard.storage import Connection

DEFAULT_RECORDS = 50
MAX_RECORDS = 100


def describe_alarms(conn: Connection, account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("AlarmNames") and params.get("AlarmNamePrefix"):
        raise errors.invalid_combination("AlarmNames and AlarmNamePrefix cannot be specified together.")
    related = [k for k in ("ChildrenOfAlarmName", "ParentsOfAlarmName") if params.get(k)]
    if related and any(params.get(k) for k in ("AlarmNames", "AlarmNamePrefix", "StateValue", "ActionPrefix")):
        raise errors.invalid_combination(f"{related[0]} can only be combined with AlarmTypes, MaxRecords and "
                                         "NextToken.")
    size = params.get("MaxRecords") or DEFAULT_RECORDS
    if not 1 <= size <= MAX_RECORDS:
        raise errors.invalid_parameter(size, "MaxRecords")
    # Without AlarmTypes only metric alarms are described, even when composite alarms exist.
    types = set(params.get("AlarmTypes") or [METRIC_ALARM])
    start = _offset(params.get("NextToken"))
    if related:
        found = [a for a in _candidates(conn, account_id, region, params) if a.alarm_type in types]
    else:  # the database filters; only ActionPrefix needs the alarms' configurations
        limit = None if params.get("ActionPrefix") else start + size + 1
        found = matching(conn, account_id, region, sorted(types), params.get("AlarmNames"),
                         params.get("AlarmNamePrefix"), params.get("StateValue"), limit)
        found = [a for a in found if _matches(a, params)]
    page = found[start:start + size]
    result: dict[str, Any] = {
        "MetricAlarms": [a.describe() for a in page if a.alarm_type == METRIC_ALARM],
        "CompositeAlarms": [a.describe() for a in page if a.alarm_type == COMPOSITE_ALARM],
    }
    if start + size < len(found):
        result["NextToken"] = base64.b64encode(str(start + size).encode()).decode()
    return result


def _candidates(conn: Connection, account_id: str, region: str, params: dict[str, Any]) -> list[Alarm]:
    if params.get("ChildrenOfAlarmName"):
        parent = find(conn, account_id, region, params["ChildrenOfAlarmName"])
        if parent is None or not parent.is_composite:
            return []
        names = {name_of(c) for c in alarm_rule.children(alarm_rule.parse(parent.config["AlarmRule"]))}
        return [a for a in all_in(conn, account_id, region) if a.name in names]
    if params.get("ParentsOfAlarmName"):
        return parents_of(conn, account_id, region, params["ParentsOfAlarmName"])
    return all_in(conn, account_id, region)


def _matches(alarm: Alarm, params: dict[str, Any]) -> bool:
    if params.get("AlarmNames") and alarm.name not in params["AlarmNames"]:
        return False
    if params.get("AlarmNamePrefix") and not alarm.name.startswith(params["AlarmNamePrefix"]):
        return False
    if params.get("StateValue") and alarm.state_value != params["StateValue"]:
        return False
    prefix = params.get("ActionPrefix")
    if prefix:
        actions = alarm.actions_for("ALARM") + alarm.actions_for("OK") + alarm.actions_for("INSUFFICIENT_DATA")
        if not any(a.startswith(prefix) for a in actions):
            return False
    return True


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.b64decode(token).decode())
    except ValueError:
        raise errors.invalid_next_token() from None


def alarms_for_metric(conn: Connection, account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """Metric alarms on this metric (name, namespace, dimensions), narrowed by the optional filters."""
    spec = MetricSpec.from_wire(params["Namespace"], params["MetricName"], params.get("Dimensions"))
    out = []
    for alarm in all_in(conn, account_id, region):
        config = alarm.config
        if alarm.is_composite or "MetricName" not in config:
            continue
        if MetricSpec.from_wire(config["Namespace"], config["MetricName"], config.get("Dimensions")) != spec:
            continue
        if any(params.get(k) is not None and config.get(k) != params[k]
               for k in ("Statistic", "ExtendedStatistic", "Period", "Unit")):
            continue
        out.append(alarm.describe())
    return {"MetricAlarms": out}


def check_composite_rule(conn: Connection, account_id: str, region: str, name: str, children: list[str]) -> None:
    """The rule's alarms must exist, and no chain of composite rules may lead back to this alarm."""
    missing = [c for c in children if find(conn, account_id, region, name_of(c)) is None and name_of(c) != name]
    if missing:
        raise errors.validation(f"Could not save the composite alarm as alarms [{', '.join(missing)}] in the alarm "
                                "rule do not exist")
    pending = [name_of(c) for c in children]
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current == name:
            raise errors.validation(f"The composite alarm {name} would depend on itself: its alarm rule leads back "
                                    "to it.")
        if current in seen:
            continue
        seen.add(current)
        child = find(conn, account_id, region, current)
        if child is not None and child.is_composite:
            pending.extend(name_of(c) for c in alarm_rule.children(alarm_rule.parse(child.config["AlarmRule"])))

"""An alarm changing state, and everything that follows inside the same transaction: its history
item, the composite alarms whose rules name it, and durable timers for its actions and its
"CloudWatch Alarm State Change" event (fired once the transaction has committed).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from eventyard.runtime.timers import Timer, schedule_claimed
from eventyard.services.cloudwatch import alarm_rule, alarms, notifications
from eventyard.services.cloudwatch.alarms import Alarm
from eventyard.services.cloudwatch.wording import aws_timestamp
from eventyard.storage import Connection

SNS_ACTION = "cloudwatch:sns-action"
LAMBDA_ACTION = "cloudwatch:lambda-action"
STATE_EVENT = "cloudwatch:state-event"
MAX_COMPOSITE_DEPTH = 20  # deeper chains of composite alarms are a cycle in all but name


@dataclass
class Transition:
    before: Alarm
    after: Alarm
    triggering: list[dict[str, Any]] = field(default_factory=list)


def change_state(conn: Connection, alarm: Alarm, state: str, reason: str, reason_data: str | None, now: float,
                 triggering: list[dict[str, Any]] | None = None, depth: int = 0) -> list[Transition]:
    """Set an alarm's state; when it changed, re-evaluate the composite alarms that name it."""
    after = alarms.set_state(conn, alarm, state, reason, reason_data, now)
    if state == alarm.state_value:
        return []
    out = [Transition(alarm, after, triggering or [])]
    if depth < MAX_COMPOSITE_DEPTH:
        for parent in alarms.parents_of(conn, alarm.account_id, alarm.region, alarm.name):
            out.extend(evaluate_composite(conn, parent, now, after, depth + 1))
    return out


def _child_state(alarm: Alarm) -> dict[str, Any]:
    return {"arn": alarm.arn, "state": {"value": alarm.state_value,
                                        "timestamp": aws_timestamp(alarm.state_transitioned_at)}}


def evaluate_composite(conn: Connection, composite: Alarm, now: float, trigger: Alarm | None = None,
                       depth: int = 0) -> list[Transition]:
    """A composite alarm is in ALARM while its rule holds, else OK."""
    rule = alarm_rule.parse(composite.config["AlarmRule"])
    children = {alarms.name_of(c): alarms.find(conn, composite.account_id, composite.region, alarms.name_of(c))
                for c in alarm_rule.children(rule)}
    holds = alarm_rule.evaluate(rule, lambda ref: getattr(children.get(alarms.name_of(ref)), "state_value", None))
    state = "ALARM" if holds else "OK"
    if state == composite.state_value:
        return []
    existing = [c for c in children.values() if c is not None]
    if trigger is None and existing:
        trigger = max(existing, key=lambda c: c.state_transitioned_at)
    if trigger is not None:
        moment = dt.datetime.fromtimestamp(trigger.state_transitioned_at, tz=dt.UTC)
        reason = (f"{trigger.arn} transitioned to {trigger.state_value} at "
                  f"{moment.strftime('%A %d %B, %Y %H:%M:%S')} UTC")
        triggering = [_child_state(trigger)]
    else:
        reason = f"The alarm rule {composite.config['AlarmRule']} evaluated to {'TRUE' if holds else 'FALSE'}"
        triggering = []
    data = json.dumps({"triggeringAlarms": triggering}, separators=(",", ":"))
    return change_state(conn, composite, state, reason, data, now, triggering, depth)


def schedule_effects(conn: Connection, transitions: list[Transition], now: float) -> list[Timer]:
    """Durable timers for each transition's actions (when enabled) and state-change event."""
    timers: list[Timer] = []
    for transition in transitions:
        after, before = transition.after, transition.before
        previous = notifications.state_view(before.state_value, before.state_reason, before.state_reason_data,
                                            before.state_updated_at)
        base = {"account_id": after.account_id, "region": after.region, "alarm_name": after.name,
                "alarm_type": after.alarm_type}
        timers.append(schedule_claimed(conn, STATE_EVENT, {
            **base, "detail": notifications.event_detail(after, previous), "resources": [after.arn]}, now))
        if not after.actions_enabled:
            continue
        for action in after.actions_for(after.state_value):
            service = action.split(":")[2]
            if service == "sns":
                message = notifications.sns_message(after, before.state_value, transition.triggering)
                timers.append(schedule_claimed(conn, SNS_ACTION, {
                    **base, "action": action, "subject": notifications.subject(after),
                    "message": json.dumps(message, separators=(",", ":")), "state_at": after.state_updated_at}, now))
            elif service == "lambda":
                timers.append(schedule_claimed(conn, LAMBDA_ACTION, {
                    **base, "action": action, "payload": notifications.lambda_payload(after, previous),
                    "state_at": after.state_updated_at}, now))
    return timers

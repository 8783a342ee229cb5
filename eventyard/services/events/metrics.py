"""EventBridge's and Scheduler's CloudWatch metrics, recorded in memory per period.

AWS/Events, by RuleName and by (EventBusName, RuleName): MatchedEvents and TriggeredRules when an
event matches a rule; InvocationAttempts for every attempt to reach a target; Invocations once per
target invocation that succeeded or failed for good; FailedInvocations and DeadLetterInvocations
when EventBridge gives up. AWS/Scheduler (account-wide and by ScheduleGroup): InvocationAttemptCount,
TargetErrorCount, InvocationDroppedCount and InvocationsSentToDeadLetterCount. Deliveries of both go
through the same durable delivery timers, whose payload says which service they belong to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventyard.runtime.metrics import MetricsRecorder

EVENTS = "AWS/Events"
SCHEDULER = "AWS/Scheduler"


def _rule_scopes(bus: str, rule: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    return (("RuleName", rule),), (("EventBusName", bus), ("RuleName", rule))


def matched(recorder: MetricsRecorder, items: Iterable[Any]) -> None:
    """Events routed to rules: each (event, rule) match counts once."""
    if not recorder.enabled:
        return
    now = recorder.clock.now()  # one reading for the whole batch: five counts per matched rule
    for item in items:
        account, region, _ = item.bus
        if item.rule_keys:
            recorder.count(EVENTS, "MatchedEvents", (), account_id=account, region=region, timestamp=now)
        for key in item.rule_keys:
            bus, _, rule = key.partition("|")
            for dims in _rule_scopes(bus, rule):
                recorder.count(EVENTS, "MatchedEvents", dims, account_id=account, region=region, timestamp=now)
                recorder.count(EVENTS, "TriggeredRules", dims, account_id=account, region=region, timestamp=now)


def _source(payload: dict[str, Any]) -> tuple[str, str, str, tuple[tuple[tuple[str, str], ...], ...]]:
    """(namespace, account, region, dimension sets) of a delivery timer's payload."""
    if "schedule_arn" in payload:  # arn:aws:scheduler:region:account:schedule/group/name
        parts = payload["schedule_arn"].split(":")
        group = parts[5].split("/")[1] if len(parts) > 5 and "/" in parts[5] else "default"
        return SCHEDULER, parts[4], parts[3], ((), (("ScheduleGroup", group),))
    parts = payload.get("rule_arn", "").split(":")  # arn:aws:events:region:account:rule/[bus/]name
    path = parts[5].split("/")[1:] if len(parts) > 5 else ["default"]
    bus, rule = (path[0], path[1]) if len(path) > 1 else ("default", path[0])
    return EVENTS, parts[4] if len(parts) > 4 else "", parts[3] if len(parts) > 3 else "", _rule_scopes(bus, rule)


def _count(recorder: MetricsRecorder, payload: dict[str, Any], events_name: str | None,
           scheduler_name: str | None) -> None:
    if not recorder.enabled:
        return
    namespace, account, region, scopes = _source(payload)
    name = events_name if namespace == EVENTS else scheduler_name
    if name is None or not account:
        return
    now = recorder.clock.now()
    for dims in scopes:
        recorder.count(namespace, name, dims, account_id=account, region=region, timestamp=now)


def attempted(recorder: MetricsRecorder, payload: dict[str, Any], succeeded: bool) -> None:
    _count(recorder, payload, "InvocationAttempts", "InvocationAttemptCount")
    if succeeded:
        _count(recorder, payload, "Invocations", None)
    else:
        _count(recorder, payload, None, "TargetErrorCount")


def gave_up(recorder: MetricsRecorder, payload: dict[str, Any], dead_lettered: bool) -> None:
    _count(recorder, payload, "Invocations", None)
    if dead_lettered:
        _count(recorder, payload, "DeadLetterInvocations", "InvocationsSentToDeadLetterCount")
    else:
        _count(recorder, payload, "FailedInvocations", "InvocationDroppedCount")

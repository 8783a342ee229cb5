"""EventBridge's and Scheduler's CloudWatch metrics, recorded in memory per period.

AWS/Events, for a rule by RuleName and by (EventBusName, RuleName), some also account-wide (no
dimensions) and by EventBusName, as AWS lists them:
- when an event matches rules: MatchedEvents (account-wide once per event, and per rule) and
  TriggeredRules;
- per attempt to reach a target: InvocationAttempts, SuccessfulInvocationAttempts or (after the first)
  RetryInvocationAttempts; the first attempt also counts InvocationsCreated (account-wide) and
  IngestionToInvocationStartLatency; a successful one IngestionToInvocationCompleteLatency;
- once per target invocation that succeeded or failed for good: Invocations; when EventBridge gives
  up: FailedInvocations, or with a dead-letter queue DeadLetterInvocations and InvocationsSentToDlq,
  or InvocationsFailedToBeSentToDlq (and FailedInvocations) when the queue refused the event.

AWS/Scheduler (account-wide and by ScheduleGroup): InvocationAttemptCount, TargetErrorCount,
TargetErrorThrottledCount, InvocationDroppedCount (the retry policy is used up),
InvocationsSentToDeadLetterCount and InvocationsFailedToBeSentToDeadLetterCount.

Deliveries of both go through the same durable delivery timers, whose payload says which service they
belong to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventyard.runtime.metric_store import Dimensions
from eventyard.runtime.metrics import MetricsRecorder

EVENTS = "AWS/Events"
SCHEDULER = "AWS/Scheduler"

# Which dimension sets each AWS/Events metric is published with (see `Source`).
RULE = "rule"  # (RuleName), (EventBusName, RuleName)
WIDE = "wide"  # account-wide, and the rule's
BUS = "bus"  # account-wide, (EventBusName), and the rule's
LATENCY = "latency"  # account-wide, (EventBusName), (EventBusName, RuleName)

# How a given-up delivery ended, and the metrics each service counts for it.
GAVE_UP: dict[str, tuple[tuple[str, str], ...]] = {
    "dropped": ((EVENTS, "Invocations"), (EVENTS, "FailedInvocations"), (SCHEDULER, "InvocationDroppedCount")),
    "dead_lettered": ((EVENTS, "Invocations"), (EVENTS, "DeadLetterInvocations"), (EVENTS, "InvocationsSentToDlq"),
                      (SCHEDULER, "InvocationDroppedCount"), (SCHEDULER, "InvocationsSentToDeadLetterCount")),
    "dead_letter_refused": ((EVENTS, "Invocations"), (EVENTS, "FailedInvocations"),
                            (EVENTS, "InvocationsFailedToBeSentToDlq"), (SCHEDULER, "InvocationDroppedCount"),
                            (SCHEDULER, "InvocationsFailedToBeSentToDeadLetterCount")),
}
SCOPE = {"Invocations": WIDE, "InvocationAttempts": BUS, "SuccessfulInvocationAttempts": BUS,
         "RetryInvocationAttempts": BUS, "IngestionToInvocationStartLatency": LATENCY,
         "IngestionToInvocationCompleteLatency": LATENCY}


@dataclass(frozen=True)
class Source:
    """Where a delivery's metrics go: its service's namespace, account, region and dimension sets."""

    namespace: str
    account: str
    region: str
    scopes: dict[str, tuple[Dimensions, ...]]

    def dimensions(self, name: str) -> tuple[Dimensions, ...]:
        return self.scopes[SCOPE.get(name, RULE)] if self.namespace == EVENTS else self.scopes[RULE]


def _rule_scopes(bus: str, rule: str) -> tuple[Dimensions, ...]:
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


def source(payload: dict[str, Any]) -> Source:
    """The namespace, account, region and dimension sets of a delivery timer's payload."""
    if "schedule_arn" in payload:  # arn:aws:scheduler:region:account:schedule/group/name
        parts = payload["schedule_arn"].split(":")
        group = parts[5].split("/")[1] if len(parts) > 5 and "/" in parts[5] else "default"
        return Source(SCHEDULER, parts[4], parts[3], {RULE: ((), (("ScheduleGroup", group),))})
    parts = payload.get("rule_arn", "").split(":")  # arn:aws:events:region:account:rule/[bus/]name
    path = parts[5].split("/")[1:] if len(parts) > 5 else ["default"]
    bus, rule = (path[0], path[1]) if len(path) > 1 else ("default", path[0])
    rule_scopes = _rule_scopes(bus, rule)
    on_bus: Dimensions = (("EventBusName", bus),)
    return Source(EVENTS, parts[4] if len(parts) > 4 else "", parts[3] if len(parts) > 3 else "", {
        RULE: rule_scopes, WIDE: ((), *rule_scopes), BUS: ((), on_bus, *rule_scopes),
        LATENCY: ((), on_bus, rule_scopes[1])})


def _record(recorder: MetricsRecorder, where: Source, names: Iterable[tuple[str, str]], now: float,
            value: float = 1.0, unit: str = "Count") -> None:
    for namespace, name in names:
        if namespace != where.namespace:
            continue
        for dims in where.dimensions(name):
            if unit == "Count":
                recorder.count(namespace, name, dims, value, account_id=where.account, region=where.region,
                               timestamp=now)
            else:
                recorder.observe(namespace, name, dims, value, unit, account_id=where.account, region=where.region,
                                 timestamp=now)


def attempted(recorder: MetricsRecorder, payload: dict[str, Any], succeeded: bool, throttled: bool = False) -> None:
    """One attempt to reach a target (`throttled`: the target refused it as too many requests)."""
    if not recorder.enabled:
        return
    where = source(payload)
    if not where.account:
        return
    now = recorder.clock.now()
    first = int(payload.get("attempt", 1)) == 1
    names = [(EVENTS, "InvocationAttempts"), (SCHEDULER, "InvocationAttemptCount")]
    if not first:
        names.append((EVENTS, "RetryInvocationAttempts"))
    if succeeded:
        names += [(EVENTS, "SuccessfulInvocationAttempts"), (EVENTS, "Invocations")]
    else:
        names.append((SCHEDULER, "TargetErrorCount"))
        if throttled:
            names.append((SCHEDULER, "TargetErrorThrottledCount"))
    if first and where.namespace == EVENTS:
        recorder.count(EVENTS, "InvocationsCreated", (), account_id=where.account, region=where.region, timestamp=now)
    _record(recorder, where, names, now)
    since = max(0.0, now - float(payload.get("ingested", now))) * 1000
    if first:
        _record(recorder, where, [(EVENTS, "IngestionToInvocationStartLatency")], now, since, "Milliseconds")
    if succeeded:
        _record(recorder, where, [(EVENTS, "IngestionToInvocationCompleteLatency")], now, since, "Milliseconds")


def gave_up(recorder: MetricsRecorder, payload: dict[str, Any], outcome: str) -> None:
    """A delivery given up on: `outcome` is "dropped", "dead_lettered" or "dead_letter_refused"."""
    if not recorder.enabled:
        return
    where = source(payload)
    if where.account:
        _record(recorder, where, GAVE_UP[outcome], recorder.clock.now())

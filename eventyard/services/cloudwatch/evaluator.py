"""The alarm evaluation loop: each metric alarm is evaluated once per evaluation interval (its period
below a minute, else every minute) on the injected clock.

When an alarm is next due is stored with it (`next_evaluation_at`), so evaluations are durable: after
a crash or a stop, every alarm whose evaluation fell due meanwhile is evaluated once as soon as the
server is back (not once per missed interval), and the schedule continues from there. Before it
evaluates, the loop writes the metrics recorder's closed periods, so an alarm sees the service
metrics of the period that just ended. Across nodes, the holder of the `cloudwatch:alarms` lease
evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventyard.services.cloudwatch import alarm_config, alarms, transitions
from eventyard.services.cloudwatch.alarms import Alarm
from eventyard.services.cloudwatch.evaluation import Datapoint, Outcome, evaluate, reason_data_text
from eventyard.services.cloudwatch.metric_data import run_queries
from eventyard.services.cloudwatch.series import MetricSpec, by_slot, read_slots
from eventyard.services.cloudwatch.statistics import statistic_value
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

BATCH = 200
IDLE_RECHECK = 1.0  # also notices a clock moved by tests
LEASE = "cloudwatch:alarms"


@dataclass(frozen=True)
class Plan:
    alarm_id: int
    due_at: float  # the next_evaluation_at this plan was made for
    config_updated_at: float
    evaluated_at: float
    outcome: Outcome | None
    interval: int


def first_evaluation(config: dict[str, object], now: float) -> float:
    interval = alarm_config.evaluation_interval(config)  # type: ignore[arg-type]
    return now - now % interval + interval


def datapoints(conn: Connection, alarm: Alarm, at: float, now: float) -> list[Datapoint]:
    """The real datapoints of the alarm's evaluation range ending at `at`, oldest first."""
    definition = alarm_config.definition(alarm.config)
    period = definition.period
    start = at - definition.range_periods * period
    config = alarm.config
    if config.get("Metrics"):
        results = run_queries(conn, alarm.account_id, alarm.region, config["Metrics"], start, at, now)
        returning = next(q["Id"] for q in config["Metrics"] if q.get("ReturnData", True))
        series = next((r.series for r in results if r.id == returning), None)
        if series is None:
            return []
        return [Datapoint(t, v) for t, v in sorted(series.points.items()) if start <= t < at]
    spec = MetricSpec.from_wire(config["Namespace"], config["MetricName"], config.get("Dimensions"))
    statistic = definition.statistic or "Average"
    slots = by_slot(read_slots(conn, alarm.account_id, alarm.region, spec, start, at, period, config.get("Unit"),
                               definition.extended))
    out = []
    for slot, aggregate in sorted(slots.items()):
        value = statistic_value(aggregate, statistic)
        if value is not None:
            out.append(Datapoint(slot, value, aggregate.sample_count))
    return out


def plan(conn: Connection, alarm: Alarm, now: float) -> Plan:
    interval = alarm_config.evaluation_interval(alarm.config)
    due_at = alarm.next_evaluation_at or now
    # An evaluation that fell due while the server was down runs once, for the present moment.
    at = due_at if now - due_at < interval else now - now % interval
    outcome = evaluate(alarm_config.definition(alarm.config), alarm.state_value, datapoints(conn, alarm, at, now), now)
    return Plan(alarm.id, due_at, alarm.config_updated_at, at, outcome, interval)


class AlarmEvaluator:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def supervise(self) -> None:
        self.platform.supervisor.loop("cloudwatch:alarms", self.step, IDLE_RECHECK)

    async def step(self) -> float:
        # One node evaluates (nodes sharing a PostgreSQL database would otherwise act on each change once each).
        if not await self.platform.leases.hold(LEASE):
            return IDLE_RECHECK
        db, now = self.platform.db, self.platform.clock.now()
        due = await db.read(lambda conn: alarms.due(conn, now, BATCH))
        if not due:
            next_at = await db.read(alarms.next_due)
            return IDLE_RECHECK if next_at is None else min(IDLE_RECHECK, max(0.01, next_at - now))
        await self.platform.metrics.flush()
        plans = await db.read(lambda conn: [plan(conn, alarm, now) for alarm in due])
        timers = await db.write(lambda conn: self._apply(conn, plans, now))
        for timer in timers:
            self.platform.timers.fire(timer)
        return 0.0

    @staticmethod
    def _apply(conn: Connection, plans: list[Plan], now: float) -> list[transitions.Timer]:
        changed: list[transitions.Transition] = []
        for item in plans:
            alarm = alarms.by_id(conn, item.alarm_id)
            if alarm is None or alarm.next_evaluation_at != item.due_at or \
                    alarm.config_updated_at != item.config_updated_at:
                continue  # deleted or reconfigured since it was read: its new schedule stands
            alarms.schedule_evaluation(conn, alarm, item.evaluated_at + item.interval)
            outcome = item.outcome
            if outcome is not None and outcome.state != alarm.state_value:
                changed.extend(transitions.change_state(conn, alarm, outcome.state, outcome.reason,
                                                        reason_data_text(outcome.reason_data), now))
        return transitions.schedule_effects(conn, changed, now)

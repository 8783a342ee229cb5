"""One metric alarm evaluation, as CloudWatch documents it: a pure function of the datapoints.

CloudWatch reads the *evaluation range* (more periods than EvaluationPeriods) and then:
- when at least EvaluationPeriods datapoints exist, the most recent EvaluationPeriods of them decide
  and TreatMissingData plays no part;
- when some exist but fewer, the missing ones are filled by TreatMissingData (breaching,
  notBreaching; `missing` and `ignore` leave them out) and every real datapoint counts;
- when none exist, `missing` goes to INSUFFICIENT_DATA, `ignore` keeps the state, `breaching` and
  `notBreaching` go to ALARM and OK.
The alarm is in ALARM when at least DatapointsToAlarm (M) of the EvaluationPeriods (N) datapoints
breach. Reasons and reason data use CloudWatch's wording and JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from eventyard.services.cloudwatch.wording import java_double

EXTRA_PERIODS = 2  # the evaluation range reaches this many periods further back than EvaluationPeriods
OPERATORS = {
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}


@dataclass(frozen=True)
class Definition:
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int | None  # None: not set (then M = N, and reasons use the short form)
    threshold: float
    comparison: str
    treat_missing: str = "missing"
    statistic: str | None = None  # Statistic or ExtendedStatistic; None for metric math
    extended: bool = False
    unit: str | None = None
    low_sample_ignore: bool = False
    minimum_samples: float = 0.0  # a percentile's significant sample count

    @property
    def m(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods

    @property
    def range_periods(self) -> int:
        return self.evaluation_periods + EXTRA_PERIODS


@dataclass(frozen=True)
class Datapoint:
    timestamp: float  # the start of its period
    value: float
    sample_count: float | None = None


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str
    reason_data: dict[str, Any]


def _stamp(moment: float) -> str:
    value = dt.datetime.fromtimestamp(moment, tz=dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _short_date(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def evaluate(definition: Definition, current: str, datapoints: list[Datapoint], query_time: float) -> Outcome | None:
    """The alarm's state after one evaluation; None when the state is to be kept as it is.

    `datapoints` are the real datapoints of the evaluation range, oldest first."""
    n, m = definition.evaluation_periods, definition.m
    if definition.low_sample_ignore and any(
            p.sample_count is not None and p.sample_count < definition.minimum_samples for p in datapoints[-n:]):
        return None  # EvaluateLowSampleCountPercentile=ignore: too few samples to be significant
    if not datapoints:
        return _all_missing(definition, current, query_time)
    operator = OPERATORS[definition.comparison][1]
    evaluated = datapoints[-n:]
    filled = n - len(evaluated)
    breaching = [p for p in evaluated if operator(p.value, definition.threshold)]
    healthy = [p for p in evaluated if not operator(p.value, definition.threshold)]
    treat = definition.treat_missing
    breaches = len(breaching) + (filled if treat == "breaching" else 0)
    healthies = len(healthy) + (filled if treat == "notBreaching" else 0)
    if breaches >= m:
        state = "ALARM"
    elif healthies >= n - m + 1 or treat in ("breaching", "notBreaching") or filled == 0:
        state = "OK"
    elif treat == "ignore":
        return None
    else:  # `missing` with too few datapoints to decide either way
        return Outcome("INSUFFICIENT_DATA", f"Insufficient Data: {_plural(filled, 'datapoint')} "
                       f"{'was' if filled == 1 else 'were'} unknown.", _reason_data(definition, evaluated, [],
                                                                                   query_time))
    listed = breaching if state == "ALARM" else healthy
    missing_note = filled if treat in ("breaching", "notBreaching") else 0
    reason = _threshold_reason(definition, state, listed, missing_note)
    return Outcome(state, reason, _reason_data(definition, evaluated, [], query_time))


def _all_missing(definition: Definition, current: str, query_time: float) -> Outcome | None:
    n = definition.evaluation_periods
    treat = definition.treat_missing
    data = _reason_data(definition, [], [], query_time)
    if treat == "ignore":
        return None
    if treat == "missing":
        return Outcome("INSUFFICIENT_DATA", f"Insufficient Data: {_plural(n, 'datapoint')} "
                       f"{'was' if n == 1 else 'were'} unknown.", data)
    state, label = ("ALARM", "Breaching") if treat == "breaching" else ("OK", "NonBreaching")
    reason = (f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
              f"{_plural(n, 'missing datapoint')} {'was' if n == 1 else 'were'} treated as [{label}].")
    return Outcome(state, reason, data)


def _threshold_reason(definition: Definition, state: str, listed: list[Datapoint], missing: int) -> str:
    phrase = OPERATORS[definition.comparison][0]
    if state == "OK":
        phrase = f"not {phrase}"
    newest_first = list(reversed(listed))
    rendered = ", ".join(f"{java_double(p.value)} ({_short_date(p.timestamp)})" for p in newest_first)
    count = len(listed)
    verb = "was" if count == 1 else "were"
    threshold = java_double(definition.threshold)
    n, m = definition.evaluation_periods, definition.m
    treated = ""
    if missing:
        label = "Breaching" if definition.treat_missing == "breaching" else "NonBreaching"
        treated = f" and {_plural(missing, 'missing datapoint')} {'was' if missing == 1 else 'were'} treated as [{label}]"
    if count == 0:
        return (f"Threshold Crossed: no datapoints were received for {_plural(missing, 'period')} and "
                f"{_plural(missing, 'missing datapoint')} {'was' if missing == 1 else 'were'} treated as "
                f"[{'Breaching' if definition.treat_missing == 'breaching' else 'NonBreaching'}].")
    if definition.datapoints_to_alarm is None:
        return f"Threshold Crossed: {_plural(count, 'datapoint')} [{rendered}] {verb} {phrase} the threshold " \
               f"({threshold}){treated}."
    minimum, transition = (m, "OK -> ALARM") if state == "ALARM" else (n - m + 1, "ALARM -> OK")
    return (f"Threshold Crossed: {count} out of the last {n} datapoints [{rendered}] {verb} {phrase} the threshold "
            f"({threshold}){treated} (minimum {_plural(minimum, 'datapoint')} for {transition} transition).")


def _reason_data(definition: Definition, evaluated: list[Datapoint], filled_stamps: list[float],
                 query_time: float) -> dict[str, Any]:
    data: dict[str, Any] = {"version": "1.0", "queryDate": _stamp(query_time)}
    if evaluated:
        data["startDate"] = _stamp(evaluated[0].timestamp)
    if definition.statistic is not None:
        data["extendedStatistic" if definition.extended else "statistic"] = definition.statistic
    if definition.unit:
        data["unit"] = definition.unit
    data["period"] = definition.period
    data["recentDatapoints"] = [p.value for p in evaluated]
    data["threshold"] = definition.threshold
    if evaluated:
        points = []
        for point in reversed(evaluated):
            entry: dict[str, Any] = {"timestamp": _stamp(point.timestamp)}
            if point.sample_count is not None:
                entry["sampleCount"] = point.sample_count
            entry["value"] = point.value
            points.append(entry)
        data["evaluatedDatapoints"] = points
    return data


def reason_data_text(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))

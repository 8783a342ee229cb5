"""Metric filters: log events that match a filter pattern become CloudWatch metric data.

A filter's metric transformation names the metric (namespace, name, unit), its value (a number, or
a field the pattern extracts: `$.latency` in JSON events, `$bytes` in space-delimited ones), a
default value for periods in which events arrived but none matched, and up to three dimensions
taken from fields. Matching runs inside the transaction that stores the events (`ingest.py`), and
the points are written there too, so an acknowledged PutLogEvents has its metrics: an alarm on a
metric filter sees them at its next evaluation, exactly once, across crashes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.metric_store import Aggregate, Point, SeriesKey, canonical_dimensions
from eventyard.services.logs.filter_patterns import FilterMatch, FilterPattern, compile_filter_pattern
from eventyard.storage import Connection, Row

MAX_FILTERS_PER_GROUP = 100
MAX_DIMENSIONS = 3
PERIOD = 60  # metric filters publish one-minute data
PATTERN_ERROR = "Invalid metric filter pattern"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def compiled(pattern: str) -> FilterPattern:
    return compile_filter_pattern(pattern, PATTERN_ERROR)


@dataclass(frozen=True)
class Transformation:
    namespace: str
    name: str
    value: str  # a number or a field reference
    unit: str
    default: float | None
    dimensions: tuple[tuple[str, str], ...]  # (dimension name, field reference)

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Transformation:
        return cls(spec["metricNamespace"], spec["metricName"], str(spec["metricValue"]).strip(),
                   spec.get("unit") or "None", spec.get("defaultValue"),
                   tuple(sorted((spec.get("dimensions") or {}).items())))

    def value_for(self, found: FilterMatch) -> float | None:
        if not self.value.startswith("$"):
            return float(self.value)
        return _number(found.value_of(self.value))

    def dimensions_for(self, found: FilterMatch) -> tuple[tuple[str, str], ...] | None:
        out = []
        for name, reference in self.dimensions:
            value = found.value_of(reference)
            if value is None or isinstance(value, (dict, list)):
                return None  # an event without the field publishes nothing for this filter
            out.append((name, "true" if value is True else "false" if value is False else str(value)))
        return canonical_dimensions(out)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def validate(pattern_text: str, spec: dict[str, Any]) -> FilterPattern:
    """Check a filter pattern and its transformation as PutMetricFilter does."""
    pattern = compiled(pattern_text)
    value = str(spec["metricValue"]).strip()
    if not value.startswith("$") and not _NUMBER.fullmatch(value):
        raise AwsError("InvalidParameterException", "Invalid metric value. The metric value must be a number "
                       "or a field of the filter pattern ($.field or $field).")
    dimensions = spec.get("dimensions") or {}
    if dimensions:
        if not pattern.has_fields:
            raise AwsError("InvalidParameterException", "The specified filter pattern does not support dimensions")
        if len(dimensions) > MAX_DIMENSIONS:
            raise AwsError("InvalidParameterException",
                           f"A metric transformation can have at most {MAX_DIMENSIONS} dimensions.")
        if spec.get("defaultValue") is not None:
            raise AwsError("InvalidParameterException",
                           "A metric transformation with dimensions cannot have a default value.")
        for reference in dimensions.values():
            if not str(reference).startswith("$"):
                raise AwsError("InvalidParameterException", f"Invalid dimension value: {reference}. Dimension"
                               " values must be fields of the filter pattern ($.field or $field).")
    return pattern


# -- storage -----------------------------------------------------------------------------------
def put(conn: Connection, group_id: int, name: str, pattern: str, spec: dict[str, Any], options: dict[str, Any],
        now: float) -> None:
    existing = conn.execute("SELECT id FROM logs_metric_filters WHERE group_id=? AND name=?",
                            (group_id, name)).fetchone()
    if existing is None:
        count = conn.execute("SELECT COUNT(*) FROM logs_metric_filters WHERE group_id=?", (group_id,)).fetchone()[0]
        if count >= MAX_FILTERS_PER_GROUP:
            raise AwsError("LimitExceededException", "Resource limit exceeded.")
    conn.execute(
        "INSERT INTO logs_metric_filters (group_id, name, pattern, transformations, options, created_at)"
        " VALUES (?,?,?,?,?,?) ON CONFLICT (group_id, name) DO UPDATE SET pattern = excluded.pattern,"
        " transformations = excluded.transformations, options = excluded.options",
        (group_id, name, pattern, json.dumps([spec]), json.dumps(options), now))


def delete(conn: Connection, group_id: int, name: str) -> None:
    if conn.execute("DELETE FROM logs_metric_filters WHERE group_id=? AND name=?", (group_id, name)).rowcount == 0:
        raise AwsError("ResourceNotFoundException", "The specified resource does not exist.")


def describe(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"filterName": row["name"], "filterPattern": row["pattern"],
                           "metricTransformations": json.loads(row["transformations"]),
                           "creationTime": int(row["created_at"] * 1000), "logGroupName": row["group_name"]}
    out.update(json.loads(row["options"]))
    out.setdefault("applyOnTransformedLogs", False)
    return out


# -- testing and applying ----------------------------------------------------------------------
def matched_messages(pattern_text: str, messages: Sequence[str]) -> list[dict[str, Any]]:
    """TestMetricFilter: each matching message, numbered from 1, with the values the pattern extracted."""
    pattern = compiled(pattern_text)
    out = []
    for number, message in enumerate(messages, start=1):
        found = pattern.match(message)
        if found is not None:
            out.append({"eventNumber": number, "eventMessage": message, "extractedValues": dict(found.values)})
    return out


@dataclass(frozen=True)
class ActiveFilter:
    pattern: FilterPattern
    transformations: tuple[Transformation, ...]

    @classmethod
    def from_row(cls, pattern: str, transformations: str) -> ActiveFilter:
        return cls(compiled(pattern), tuple(Transformation.from_spec(s) for s in json.loads(transformations)))


def points(filters: Sequence[ActiveFilter], account_id: str, region: str,
           events: Sequence[tuple[int, str]]) -> list[Point]:
    """The metric points `events` ((timestamp ms, message)) produce, one aggregate per series and minute."""
    aggregates: dict[tuple[SeriesKey, float, str], Aggregate] = {}
    for active in filters:
        seen_minutes: set[float] = set()
        matched_minutes: set[float] = set()
        for timestamp, message in events:
            minute = _minute(timestamp)
            seen_minutes.add(minute)
            found = active.pattern.match(message)
            if found is None:
                continue
            for transformation in active.transformations:
                value = transformation.value_for(found)
                dimensions = transformation.dimensions_for(found)
                if value is None or dimensions is None:
                    continue
                matched_minutes.add(minute)
                _add(aggregates, SeriesKey(account_id, region, transformation.namespace, transformation.name,
                                           dimensions), minute, transformation.unit, value)
        for transformation in active.transformations:  # events arrived, none matched: the default value
            if transformation.default is None:
                continue
            for minute in seen_minutes - matched_minutes:
                _add(aggregates, SeriesKey(account_id, region, transformation.namespace, transformation.name),
                     minute, transformation.unit, float(transformation.default))
    return [Point(series, start, PERIOD, unit, aggregate) for (series, start, unit), aggregate in aggregates.items()]


def _minute(timestamp_ms: int) -> float:
    seconds = timestamp_ms / 1000
    return float(seconds - seconds % PERIOD)


def _add(aggregates: dict[tuple[SeriesKey, float, str], Aggregate], series: SeriesKey, minute: float, unit: str,
         value: float) -> None:
    key = (series, minute, unit)
    aggregate = aggregates.get(key)
    if aggregate is None:
        aggregate = aggregates[key] = Aggregate()
    aggregate.add(value)

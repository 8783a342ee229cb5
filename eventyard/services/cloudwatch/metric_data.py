"""GetMetricData: MetricStat queries and metric math over them, ordered, labelled and paged.

`run_queries` is also how metric-math alarms read their data: the same checks, the same evaluation.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventyard.services.cloudwatch import errors
from eventyard.services.cloudwatch.math_eval import Evaluator, Series, Value, as_results
from eventyard.services.cloudwatch.math_parser import ExpressionError, expression_error, parse, references
from eventyard.services.cloudwatch.metric_api import check_period
from eventyard.services.cloudwatch.series import MetricSpec, by_slot, read_slots, rounded_start
from eventyard.services.cloudwatch.statistics import parse_extended, statistic_value
from eventyard.storage import Connection

MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100_800
_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
_LABEL_PROPERTY = re.compile(r"\$\{PROP\('([^']+)'\)\}")
_LABEL_STAT = re.compile(r"\$\{(AVG|MIN|MAX|SUM|FIRST|LAST|DATAPOINT_COUNT)\}")


@dataclass(frozen=True)
class QueryResult:
    id: str
    label: str
    series: Series


def check_queries(queries: list[dict[str, Any]]) -> None:
    if len(queries) > MAX_QUERIES:
        raise errors.validation(f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
    seen: set[str] = set()
    for index, query in enumerate(queries, 1):
        query_id = query["Id"]
        if not _ID.match(query_id):
            raise errors.validation(f"The value {query_id} for parameter MetricDataQueries.member.{index}.Id is not "
                                    "matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.")
        if query_id in seen:
            raise errors.validation(f"The values for parameter id in MetricDataQueries are not unique: {query_id}")
        seen.add(query_id)
        has_stat, has_expression = "MetricStat" in query, "Expression" in query
        if has_stat == has_expression:
            raise errors.validation(f"Exactly one element of the metrics list should have either a MetricStat or an "
                                    f"Expression: MetricDataQueries.member.{index}")
        if has_stat:
            stat = query["MetricStat"]
            check_period(stat["Period"], f"MetricDataQueries.member.{index}.MetricStat.Period")
            if stat["Stat"] not in ("SampleCount", "Average", "Sum", "Minimum", "Maximum") and \
                    parse_extended(stat["Stat"]) is None:
                raise errors.validation(f"The value {stat['Stat']} for parameter MetricDataQueries.member.{index}."
                                        "MetricStat.Stat is invalid.")


def run_queries(conn: Connection, account_id: str, region: str, queries: list[dict[str, Any]], start: float,
                end: float, now: float) -> list[QueryResult]:
    """Every query's time series (in request order), whether or not it returns data."""
    check_queries(queries)
    values: dict[str, Value] = {}
    metrics: list[Series] = []
    stat_periods = [q["MetricStat"]["Period"] for q in queries if "MetricStat" in q]
    default_period = min(stat_periods) if stat_periods else 60
    for query in queries:
        if "MetricStat" in query:
            series = _metric_stat(conn, account_id, region, query, start, end, now)
            values[query["Id"]] = series
            metrics.append(series)
    expressions = {q["Id"]: q for q in queries if "Expression" in q}
    parsed = {}
    for query_id, query in expressions.items():
        try:
            parsed[query_id] = parse(query["Expression"])
        except ExpressionError as error:
            raise expression_error(query_id, error) from None
    for query_id in _ordered(parsed, set(values)):
        query = expressions[query_id]
        period = query.get("Period") or default_period
        grid_start = rounded_start(start, now, period)
        grid = [grid_start + k * period for k in range(int((end - grid_start) // period) + 1)
                if grid_start + k * period < end]
        try:
            value = Evaluator(grid, period, values, metrics).evaluate(parsed[query_id])
        except ExpressionError as error:
            raise expression_error(query_id, error) from None
        produced = as_results(value, query_id, query.get("Label") or "", grid, period)
        values[query_id] = produced[0] if len(produced) == 1 else produced
    out: list[QueryResult] = []
    for query in queries:
        found = values[query["Id"]]
        for item in found if isinstance(found, list) else [found]:
            if isinstance(item, Series):
                out.append(QueryResult(query["Id"], _label(query, item), item))
    return out


def _ordered(parsed: dict[str, Any], known: set[str]) -> list[str]:
    """Expressions in an order where each comes after the expressions it reads; a cycle is an error."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(query_id: str) -> None:
        if state.get(query_id) == "done":
            return
        if state.get(query_id) == "visiting":
            raise errors.validation(f"Circular dependency detected in expression {query_id}.")
        state[query_id] = "visiting"
        for dependency in references(parsed[query_id]):
            if dependency in parsed:
                visit(dependency)
            elif dependency not in known:
                raise errors.validation(f"Error in expression {query_id}: Unrecognized metric identifier "
                                        f"{dependency}")
        state[query_id] = "done"
        order.append(query_id)

    for query_id in parsed:
        visit(query_id)
    return order


def _metric_stat(conn: Connection, account_id: str, region: str, query: dict[str, Any], start: float, end: float,
                 now: float) -> Series:
    stat = query["MetricStat"]
    metric = stat["Metric"]
    spec = MetricSpec.from_wire(metric["Namespace"], metric["MetricName"], metric.get("Dimensions"))
    period = stat["Period"]
    slot_start = rounded_start(start, now, period)
    extended = stat["Stat"] not in ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
    slots = by_slot(read_slots(conn, account_id, region, spec, slot_start, end, period, stat.get("Unit"), extended))
    points = {}
    for slot, aggregate in slots.items():
        value = statistic_value(aggregate, stat["Stat"])
        if value is not None:
            points[slot] = value
    properties = {"MetricName": spec.metric_name, "Namespace": spec.namespace, "Period": str(period),
                  "Stat": stat["Stat"], **{f"Dim.{n}": v for n, v in spec.dimensions}}
    return Series(query["Id"], spec.metric_name, points, period, properties)


def _label(query: dict[str, Any], series: Series) -> str:
    label = query.get("Label") or series.label or query["Id"]
    values = list(series.points.values())
    ordered = [series.points[t] for t in sorted(series.points)]
    summary = {"AVG": sum(values) / len(values) if values else None, "MIN": min(values, default=None),
               "MAX": max(values, default=None), "SUM": sum(values) if values else None,
               "FIRST": ordered[0] if ordered else None, "LAST": ordered[-1] if ordered else None,
               "DATAPOINT_COUNT": float(len(values))}
    label = _LABEL_PROPERTY.sub(lambda m: series.properties.get(m.group(1), ""), label)
    return _LABEL_STAT.sub(lambda m: _number(summary[m.group(1)]), label)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


# -- the operation ----------------------------------------------------------------------------
def get_metric_data(conn: Connection, account_id: str, region: str, params: dict[str, Any],
                    now: float) -> dict[str, Any]:
    start, end = float(params["StartTime"]), float(params["EndTime"])
    if start >= end:
        raise errors.validation("The parameter StartTime must be less than the parameter EndTime.")
    queries = params["MetricDataQueries"]
    max_points = params.get("MaxDatapoints") or DEFAULT_MAX_DATAPOINTS
    descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    first_result, first_offset = _decode_token(params.get("NextToken"))
    budget = max_points
    out: list[dict[str, Any]] = []
    next_token = None
    for index, result in enumerate(_returned(conn, account_id, region, queries, start, end, now, first_result)):
        position = first_result + index
        stamps = sorted(result.series.points, reverse=descending)
        offset = first_offset if position == first_result else 0
        remaining = stamps[offset:]
        taken = remaining[:budget]
        budget -= len(taken)
        complete = len(taken) == len(remaining)
        out.append({"Id": result.id, "Label": result.label, "Timestamps": taken,
                    "Values": [result.series.points[t] for t in taken],
                    "StatusCode": "Complete" if complete else "PartialData"})
        if not complete:
            next_token = {"r": position, "o": offset + len(taken)}
            break
    answer: dict[str, Any] = {"MetricDataResults": out, "Messages": []}
    if next_token is not None:
        answer["NextToken"] = base64.b64encode(json.dumps(next_token).encode()).decode()
    return answer


def _returned(conn: Connection, account_id: str, region: str, queries: list[dict[str, Any]], start: float,
              end: float, now: float, skip: int) -> Iterator[QueryResult]:
    """The results a request returns, in order, from the `skip`th on. Without expressions each query
    is read only when its turn comes, so later pages do not read what earlier pages answered."""
    if any("Expression" in q for q in queries):
        by_id = {q["Id"]: q for q in queries}
        results = [r for r in run_queries(conn, account_id, region, queries, start, end, now)
                   if by_id[r.id].get("ReturnData", True)]
        yield from results[skip:]
        return
    check_queries(queries)
    returning = [q for q in queries if q.get("ReturnData", True)]
    for query in returning[skip:]:
        series = _metric_stat(conn, account_id, region, query, start, end, now)
        yield QueryResult(query["Id"], _label(query, series), series)


def _decode_token(token: str | None) -> tuple[int, int]:
    """(the result a page starts with, how many of its datapoints earlier pages answered)."""
    if not token:
        return 0, 0
    try:
        position = json.loads(base64.b64decode(token))
        return int(position["r"]), int(position["o"])
    except (ValueError, KeyError, TypeError):
        raise errors.invalid_next_token() from None

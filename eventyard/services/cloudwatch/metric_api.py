"""PutMetricData, GetMetricStatistics and ListMetrics: checks as CloudWatch makes them, then the store."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from eventyard.runtime.metric_store import Aggregate, Point, SeriesKey, canonical_dimensions, list_series
from eventyard.services.cloudwatch import errors
from eventyard.services.cloudwatch.series import MetricSpec, read_slots, rounded_start
from eventyard.services.cloudwatch.statistics import SIMPLE_STATISTICS, parse_extended, statistic_value
from eventyard.storage import Connection

MAX_METRICS_PER_PUT = 1000
MAX_DIMENSIONS = 30
MAX_VALUES = 150
VALUE_LIMIT = 2.0 ** 360
TWO_WEEKS = 14 * 86_400
TWO_HOURS = 2 * 3600
MAX_DATAPOINTS = 1440  # GetMetricStatistics answers at most this many
LIST_PAGE = 500
RECENTLY_ACTIVE = 3 * 3600  # RecentlyActive=PT3H


def _check_value(value: float, parameter: str) -> None:
    if not math.isfinite(value) or abs(value) > VALUE_LIMIT or (value != 0 and abs(value) < 1 / VALUE_LIMIT):
        raise errors.invalid_parameter(_render(value), parameter)


def _render(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _check_dimensions(dimensions: list[dict[str, str]], prefix: str) -> tuple[tuple[str, str], ...]:
    if len(dimensions) > MAX_DIMENSIONS:
        raise errors.invalid_value(f"The collection {prefix} must not have a size greater than {MAX_DIMENSIONS}.")
    names = [d["Name"] for d in dimensions]
    if len(set(names)) != len(names):
        raise errors.invalid_value(f"No metric may have duplicate dimension names: {prefix}")
    return canonical_dimensions((d["Name"], d["Value"]) for d in dimensions)


def datum_points(account_id: str, region: str, namespace: str, datum: dict[str, Any], index: int,
                 now: float) -> Point:
    """One MetricDatum, checked, as the point it adds."""
    prefix = f"MetricData.member.{index}"
    dims = _check_dimensions(datum.get("Dimensions", []), f"{prefix}.Dimensions")
    given = [name for name in ("Value", "StatisticValues", "Values") if name in datum]
    if not given:
        raise errors.invalid_combination(f"At least one of the parameters {prefix}.Value, {prefix}.StatisticValues "
                                          f"and {prefix}.Values must be specified.")
    if len(given) > 1:
        first, second = given[:2]
        raise errors.invalid_combination(f"The parameters {prefix}.{first} and {prefix}.{second} are mutually "
                                          "exclusive and you have specified both.")
    timestamp = float(datum.get("Timestamp", now))
    if timestamp < now - TWO_WEEKS:
        raise errors.invalid_value(f"The parameter {prefix}.Timestamp must specify a time no more than two weeks "
                                   "in the past.")
    if timestamp > now + TWO_HOURS:
        raise errors.invalid_value(f"The parameter {prefix}.Timestamp must specify a time no more than two hours "
                                   "in the future.")
    resolution = datum.get("StorageResolution", 60)
    if resolution not in (1, 60):
        raise errors.invalid_parameter(resolution, f"{prefix}.StorageResolution")
    aggregate = Aggregate()
    if "Value" in datum:
        _check_value(datum["Value"], f"{prefix}.Value")
        aggregate.add(datum["Value"])
    elif "StatisticValues" in datum:
        stats = datum["StatisticValues"]
        for name in ("SampleCount", "Sum", "Minimum", "Maximum"):
            _check_value(stats[name], f"{prefix}.StatisticValues.{name}")
        if stats["SampleCount"] <= 0:
            raise errors.invalid_parameter(_render(stats["SampleCount"]), f"{prefix}.StatisticValues.SampleCount")
        if stats["Minimum"] > stats["Maximum"]:
            raise errors.invalid_value(f"The parameter {prefix}.StatisticValues.Maximum must be greater than "
                                       f"{prefix}.StatisticValues.Minimum.")
        aggregate.add_statistic_set(stats["SampleCount"], stats["Sum"], stats["Minimum"], stats["Maximum"])
    else:
        _add_values(aggregate, datum, prefix)
    series = SeriesKey(account_id, region, namespace, datum["MetricName"], dims)
    return Point(series, timestamp - timestamp % resolution, resolution, datum.get("Unit", "None"), aggregate)


def _add_values(aggregate: Aggregate, datum: dict[str, Any], prefix: str) -> None:
    values = datum["Values"]
    counts = datum.get("Counts")
    if len(values) > MAX_VALUES:
        raise errors.invalid_value(f"The collection {prefix}.Values must not have a size greater than {MAX_VALUES}.")
    if counts is not None and len(counts) != len(values):
        raise errors.invalid_combination(f"The parameters {prefix}.Values and {prefix}.Counts must be of the same "
                                          "size.")
    if not values:
        raise errors.invalid_combination(f"At least one of the parameters {prefix}.Value, {prefix}.StatisticValues "
                                          f"and {prefix}.Values must be specified.")
    for position, value in enumerate(values, 1):
        _check_value(value, f"{prefix}.Values.member.{position}")
        weight = counts[position - 1] if counts is not None else 1.0
        if not math.isfinite(weight) or weight < 0:
            raise errors.invalid_parameter(_render(weight), f"{prefix}.Counts.member.{position}")
        if weight:
            aggregate.add(value, weight)


def put_metric_data_points(account_id: str, region: str, params: dict[str, Any], now: float) -> list[Point]:
    namespace = params["Namespace"]
    if namespace.startswith("AWS/") or namespace.startswith(":"):
        raise errors.invalid_parameter(namespace, "Namespace")
    data = params.get("MetricData") or []
    if not data:
        raise errors.missing_parameter("MetricData")
    if len(data) > MAX_METRICS_PER_PUT:
        raise errors.invalid_value(f"The collection MetricData must not have a size greater than {MAX_METRICS_PER_PUT}.")
    return [datum_points(account_id, region, namespace, datum, i, now) for i, datum in enumerate(data, 1)]


# -- GetMetricStatistics --------------------------------------------------------------------
def check_period(period: int, parameter: str = "Period") -> None:
    if period <= 0 or (period not in (1, 5, 10, 20, 30) and period % 60 != 0):
        raise errors.invalid_value(f"The parameter {parameter} must be a multiple of 60 or one of 1, 5, 10, 20, 30.")


def get_metric_statistics(conn: Connection, account_id: str, region: str, params: dict[str, Any],
                          now: float) -> dict[str, Any]:
    statistics = params.get("Statistics") or []
    extended = params.get("ExtendedStatistics") or []
    if not statistics and not extended:
        raise errors.missing_parameter("Statistics or ExtendedStatistics")
    if statistics and extended:
        raise errors.invalid_combination("The parameters Statistics and ExtendedStatistics are mutually exclusive "
                                         "and you have specified both.")
    for name in extended:
        if parse_extended(name) is None:
            raise errors.invalid_parameter(name, "ExtendedStatistics")
    start, end, period = float(params["StartTime"]), float(params["EndTime"]), params["Period"]
    check_period(period)
    if start >= end:
        raise errors.invalid_value("The parameter StartTime must be less than the parameter EndTime.")
    start = rounded_start(start, now, period)
    if (end - start) / period > MAX_DATAPOINTS:
        raise errors.invalid_combination(f"You have requested up to {int((end - start) // period) + 1} datapoints, "
                                         f"which exceeds the limit of {MAX_DATAPOINTS}. You may reduce the datapoints "
                                         "requested by increasing Period, or decreasing the time range.")
    spec = MetricSpec.from_wire(params["Namespace"], params["MetricName"], params.get("Dimensions"))
    slots = read_slots(conn, account_id, region, spec, start, end, period, params.get("Unit"), bool(extended))
    datapoints = [_datapoint(slot, unit, aggregate, statistics, extended) for (slot, unit), aggregate in sorted(slots.items())]
    return {"Label": spec.metric_name, "Datapoints": datapoints}


def _datapoint(slot: float, unit: str, aggregate: Aggregate, statistics: list[str],
               extended: list[str]) -> dict[str, Any]:
    point: dict[str, Any] = {"Timestamp": slot, "Unit": unit}
    for name in statistics:
        if name in SIMPLE_STATISTICS:
            point[name] = statistic_value(aggregate, name)
    values = {name: statistic_value(aggregate, name) for name in extended}
    if extended:
        point["ExtendedStatistics"] = {name: value for name, value in values.items() if value is not None}
    return point


# -- ListMetrics ------------------------------------------------------------------------------
def list_metrics(conn: Connection, account_id: str, region: str, params: dict[str, Any], now: float) -> dict[str, Any]:
    active_since = None
    if params.get("RecentlyActive") is not None:
        if params["RecentlyActive"] != "PT3H":
            raise errors.invalid_parameter(params["RecentlyActive"], "RecentlyActive")
        active_since = now - RECENTLY_ACTIVE
    wanted = params.get("Dimensions") or []
    found = list_series(conn, account_id, region, params.get("Namespace"), params.get("MetricName"), active_since)
    matching = [key for _, key in found if _matches(key, wanted)]
    start = _decode_token(params.get("NextToken"))
    page = matching[start:start + LIST_PAGE]
    result: dict[str, Any] = {"Metrics": [{"Namespace": k.namespace, "MetricName": k.metric_name,
                                           "Dimensions": [{"Name": n, "Value": v} for n, v in k.dimensions]}
                                          for k in page]}
    if start + LIST_PAGE < len(matching):
        result["NextToken"] = base64.b64encode(json.dumps({"offset": start + LIST_PAGE}).encode()).decode()
    return result


def _matches(key: SeriesKey, wanted: list[dict[str, str]]) -> bool:
    """A DimensionFilter with a Value matches that value; without one, any value of that name."""
    dims = dict(key.dimensions)
    for dimension in wanted:
        name = dimension["Name"]
        if name not in dims or ("Value" in dimension and dims[name] != dimension["Value"]):
            return False
    return True


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.b64decode(token))["offset"])
    except (ValueError, KeyError, TypeError):
        raise errors.invalid_next_token() from None

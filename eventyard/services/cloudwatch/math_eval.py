"""Evaluating metric math over time series on one grid of periods.

A value is a scalar, a time series (timestamp -> value, missing points absent) or an array of time
series. Arithmetic between two series keeps the timestamps both have; between a scalar and a series
it applies to every point; functions of an array of series (SUM, AVG, MIN, MAX, STDDEV of METRICS()
or [m1, m2]) give one series whose point at each time combines the series that have one. Results
that are not finite numbers (division by zero) are dropped, as CloudWatch returns none.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from eventyard.services.cloudwatch.math_parser import (
    Array,
    Binary,
    Call,
    ExpressionError,
    Keyword,
    Negate,
    Node,
    Number,
    Reference,
    Text,
)


@dataclass
class Series:
    id: str
    label: str
    points: dict[float, float]
    period: int
    properties: dict[str, str] = field(default_factory=dict)  # for ${PROP('...')} labels

    def derived(self, points: dict[float, float]) -> Series:
        return Series(self.id, self.label, points, self.period, self.properties)


Value = float | Series | list[Series]
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b != 0 else (math.nan if a == 0 else math.copysign(math.inf, a) * math.copysign(1, b)),
    "^": lambda a, b: _power(a, b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "AND": lambda a, b: float(bool(a) and bool(b)),
    "OR": lambda a, b: float(bool(a) or bool(b)),
}
_UNARY: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": lambda v: float(math.ceil(v)),
    "FLOOR": lambda v: float(math.floor(v)),
    "LOG": lambda v: math.log(v) if v > 0 else math.nan,
    "LOG10": lambda v: math.log10(v) if v > 0 else math.nan,
    "SQRT": lambda v: math.sqrt(v) if v >= 0 else math.nan,
}
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "SUM": math.fsum,
    "AVG": statistics.fmean,
    "MIN": min,
    "MAX": max,
    "STDDEV": lambda values: statistics.pstdev(values) if len(values) > 1 else 0.0,
}


def _power(a: float, b: float) -> float:
    try:
        result = a ** b
    except (OverflowError, ZeroDivisionError):
        return math.nan
    return result if isinstance(result, float) else math.nan


def _finite(points: dict[float, float]) -> dict[float, float]:
    return {t: v for t, v in points.items() if math.isfinite(v)}


class Evaluator:
    """Evaluates expressions of one request: `values` holds every query's result by id."""

    def __init__(self, grid: list[float], period: int, values: dict[str, Value], metrics: list[Series]) -> None:
        self.grid = grid
        self.period = period
        self.values = values
        self.metrics = metrics

    def evaluate(self, node: Node) -> Value:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Reference):
            if node.id not in self.values:
                raise ExpressionError(f"Unknown metric id {node.id}")
            return self.values[node.id]
        if isinstance(node, Array):
            return self._array([self.evaluate(item) for item in node.items])
        if isinstance(node, Negate):
            return self._map(self.evaluate(node.operand), lambda v: -v)
        if isinstance(node, Binary):
            return self._binary(node.operator, self.evaluate(node.left), self.evaluate(node.right))
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Text):
            raise ExpressionError(f"A string is not a value: \"{node.value}\"")
        raise ExpressionError(f"{node.name} is not a value")

    # -- building blocks -------------------------------------------------------------------
    @staticmethod
    def _array(items: list[Value]) -> list[Series]:
        out: list[Series] = []
        for item in items:
            if isinstance(item, Series):
                out.append(item)
            elif isinstance(item, list):
                out.extend(item)
            else:
                raise ExpressionError("An array can hold only time series")
        return out

    def _map(self, value: Value, fn: Callable[[float], float]) -> Value:
        if isinstance(value, list):
            return [s.derived(_finite({t: fn(v) for t, v in s.points.items()})) for s in value]
        if isinstance(value, Series):
            return value.derived(_finite({t: fn(v) for t, v in value.points.items()}))
        return fn(value)

    def _binary(self, operator: str, left: Value, right: Value) -> Value:
        fn = _ARITHMETIC[operator]
        if isinstance(left, list):
            return [self._binary(operator, s, right) for s in left]  # type: ignore[misc]
        if isinstance(right, list):
            return [self._binary(operator, left, s) for s in right]  # type: ignore[misc]
        if isinstance(left, Series) and isinstance(right, Series):
            shared = left.points.keys() & right.points.keys()
            return left.derived(_finite({t: fn(left.points[t], right.points[t]) for t in sorted(shared)}))
        if isinstance(left, Series):
            scalar = float(right)  # type: ignore[arg-type]
            return left.derived(_finite({t: fn(v, scalar) for t, v in left.points.items()}))
        if isinstance(right, Series):
            return right.derived(_finite({t: fn(float(left), v) for t, v in right.points.items()}))
        return fn(float(left), float(right))

    def _series_arg(self, node: Call, index: int) -> Series | list[Series]:
        if index >= len(node.arguments):
            raise ExpressionError(f"{node.function} needs more arguments")
        value = self.evaluate(node.arguments[index])
        if not isinstance(value, (Series, list)):
            raise ExpressionError(f"{node.function} expects a time series")
        return value

    # -- functions -------------------------------------------------------------------------
    def _call(self, node: Call) -> Value:
        name = node.function
        if name in _UNARY:
            return self._map(self.evaluate(self._only(node)), _UNARY[name])
        if name in _AGGREGATES:
            return self._aggregate(node)
        handler = getattr(self, f"_fn_{name.lower()}", None)
        if handler is None:
            raise ExpressionError(f"Unknown function {name}")
        return handler(node)  # type: ignore[no-any-return]

    @staticmethod
    def _only(node: Call) -> Node:
        if len(node.arguments) != 1:
            raise ExpressionError(f"{node.function} takes exactly one argument")
        return node.arguments[0]

    def _aggregate(self, node: Call) -> Value:
        combine = _AGGREGATES[node.function]
        values = [self.evaluate(a) for a in node.arguments]
        if len(values) == 1 and isinstance(values[0], Series):  # of one series: a scalar
            points = list(values[0].points.values())
            return combine(points) if points else math.nan
        series = self._array(values)
        if not series:
            return math.nan
        stamps = sorted(set().union(*(s.points.keys() for s in series)))
        combined = {t: combine([s.points[t] for s in series if t in s.points]) for t in stamps}
        return Series("", node.function, _finite(combined), series[0].period)

    def _fn_metrics(self, node: Call) -> Value:
        if not node.arguments:
            return list(self.metrics)
        needle = node.arguments[0]
        if not isinstance(needle, Text):
            raise ExpressionError("METRICS takes a string")
        return [s for s in self.metrics if needle.value in s.id or needle.value in s.label]

    def _fn_fill(self, node: Call) -> Value:
        target = self._series_arg(node, 0)
        if len(node.arguments) != 2:
            raise ExpressionError("FILL takes two arguments")
        how = node.arguments[1]
        if isinstance(target, list):
            return [self._fill_one(s, how) for s in target]
        return self._fill_one(target, how)

    def _fill_one(self, series: Series, how: Node) -> Series:
        points = dict(series.points)
        if isinstance(how, Keyword) and how.name in {"REPEAT", "LINEAR"}:
            known = sorted(points)
            for stamp in self.grid:
                if stamp in points:
                    continue
                before = [t for t in known if t < stamp]
                after = [t for t in known if t > stamp]
                if how.name == "REPEAT" and before:
                    points[stamp] = series.points[before[-1]]
                elif how.name == "LINEAR" and before and after:
                    t0, t1 = before[-1], after[0]
                    v0, v1 = series.points[t0], series.points[t1]
                    points[stamp] = v0 + (v1 - v0) * (stamp - t0) / (t1 - t0)
            return series.derived(dict(sorted(points.items())))
        filler = self.evaluate(how)
        for stamp in self.grid:
            if stamp in points:
                continue
            if isinstance(filler, Series):
                if stamp in filler.points:
                    points[stamp] = filler.points[stamp]
            elif isinstance(filler, (int, float)):
                points[stamp] = float(filler)
            else:
                raise ExpressionError("FILL takes a scalar, a time series, REPEAT or LINEAR")
        return series.derived(dict(sorted(points.items())))

    def _pairwise(self, node: Call, fn: Callable[[float, float, float, float], float]) -> Value:
        target = self._series_arg(node, 0)

        def one(series: Series) -> Series:
            stamps = sorted(series.points)
            out = {t1: fn(t0, series.points[t0], t1, series.points[t1]) for t0, t1 in zip(stamps, stamps[1:], strict=False)}
            return series.derived(_finite(out))

        return [one(s) for s in target] if isinstance(target, list) else one(target)

    def _fn_rate(self, node: Call) -> Value:
        return self._pairwise(node, lambda t0, v0, t1, v1: (v1 - v0) / (t1 - t0))

    def _fn_diff(self, node: Call) -> Value:
        return self._pairwise(node, lambda t0, v0, t1, v1: v1 - v0)

    def _fn_diff_time(self, node: Call) -> Value:
        return self._pairwise(node, lambda t0, v0, t1, v1: t1 - t0)

    def _fn_running_sum(self, node: Call) -> Value:
        target = self._series_arg(node, 0)

        def one(series: Series) -> Series:
            total, out = 0.0, {}
            for stamp in sorted(series.points):
                total += series.points[stamp]
                out[stamp] = total
            return series.derived(out)

        return [one(s) for s in target] if isinstance(target, list) else one(target)

    def _fn_if(self, node: Call) -> Value:
        if len(node.arguments) not in {2, 3}:
            raise ExpressionError("IF takes two or three arguments")
        condition = self.evaluate(node.arguments[0])
        when_true = self.evaluate(node.arguments[1])
        when_false = self.evaluate(node.arguments[2]) if len(node.arguments) == 3 else None
        if not isinstance(condition, Series):
            if isinstance(condition, list):
                raise ExpressionError("IF takes a single time series as its condition")
            return when_true if condition else (when_false if when_false is not None else math.nan)
        out: dict[float, float] = {}
        for stamp, test in condition.points.items():
            chosen = when_true if test else when_false
            if chosen is None:
                continue
            if isinstance(chosen, Series):
                if stamp in chosen.points:
                    out[stamp] = chosen.points[stamp]
            elif isinstance(chosen, (int, float)):
                out[stamp] = float(chosen)
            else:
                raise ExpressionError("IF's values must be scalars or single time series")
        return condition.derived(_finite(out))

    def _fn_period(self, node: Call) -> Value:
        target = self._series_arg(node, 0)
        return float(target[0].period if isinstance(target, list) and target else getattr(target, "period", 0))

    def _fn_datapoint_count(self, node: Call) -> Value:
        target = self._series_arg(node, 0)
        if isinstance(target, list):
            raise ExpressionError("DATAPOINT_COUNT takes a single time series")
        return float(len(target.points))

    def _fn_first(self, node: Call) -> Value:
        target = self._series_arg(node, 0)
        return (target[0] if target else []) if isinstance(target, list) else target

    def _fn_last(self, node: Call) -> Value:
        target = self._series_arg(node, 0)
        return (target[-1] if target else []) if isinstance(target, list) else target

    def _fn_remove_empty(self, node: Call) -> Value:
        target = self._series_arg(node, 0)
        return [s for s in target if s.points] if isinstance(target, list) else target

    def _fn_time_series(self, node: Call) -> Value:
        value = self.evaluate(self._only(node))
        if not isinstance(value, (int, float)):
            raise ExpressionError("TIME_SERIES takes a scalar")
        return Series("", "", {t: float(value) for t in self.grid} if math.isfinite(value) else {}, self.period)

    def _fn_sort(self, node: Call) -> Value:
        target = self._series_arg(node, 0)
        if not isinstance(target, list) or len(node.arguments) < 3:
            raise ExpressionError("SORT takes an array, a function (SUM, AVG, MIN, MAX) and ASC or DESC")
        by, order = node.arguments[1], node.arguments[2]
        if not (isinstance(by, Keyword) and by.name in _AGGREGATES and isinstance(order, Keyword)
                and order.name in {"ASC", "DESC"}):
            raise ExpressionError("SORT takes an array, a function (SUM, AVG, MIN, MAX) and ASC or DESC")
        combine = _AGGREGATES[by.name]
        ranked = sorted(target, key=lambda s: combine(list(s.points.values())) if s.points else -math.inf,
                        reverse=order.name == "DESC")
        if len(node.arguments) > 3:
            limit = self.evaluate(node.arguments[3])
            if isinstance(limit, (int, float)):
                ranked = ranked[:int(limit)]
        return ranked


def as_results(value: Value, query_id: str, label: str, grid: list[float], period: int) -> list[Series]:
    """An expression's outcome as the time series GetMetricData answers (a scalar fills the grid)."""
    if isinstance(value, list):
        return [Series(query_id, s.label or label, s.points, s.period, s.properties) for s in value]
    if isinstance(value, Series):
        return [Series(query_id, label, value.points, value.period, value.properties)]
    points = {t: float(value) for t in grid} if math.isfinite(value) else {}
    return [Series(query_id, label, points, period)]

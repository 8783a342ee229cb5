"""Runs a parsed Logs Insights query over records (`records.record`), command after command.

Expressions compile to closures once per query. A record is a dict of field -> value; after `stats`
the records are the groups, whose fields are named after the group and aggregate expressions (so
`sort count(*) desc` and `filter n > 5` read them). The columns of the result are what `display`
names, else what `fields` commands name, else @timestamp, @message, @logStream and @log.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from eventyard.services.logs.insights import functions, model
from eventyard.services.logs.insights.functions import Aggregation, as_number, as_text, truthy

Record = dict[str, Any]
Compiled = Callable[[Record], Any]
DEFAULT_COLUMNS = ("@timestamp", "@message", "@logStream", "@log")
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "%": math.fmod, "^": math.pow}


@dataclass
class Outcome:
    columns: list[str]
    rows: list[Record]
    matched: int = 0  # records that reached the first stats, sort or limit (or the end): those filters kept
    aggregated: bool = False


@dataclass
class _Counter:
    value: int = 0


@dataclass
class _Columns:
    listed: list[str] = field(default_factory=list)
    display: list[str] | None = None

    def add(self, name: str) -> None:
        if name not in self.listed:
            self.listed.append(name)


def run(query: model.Query, records: Iterable[Record], default_limit: int) -> Outcome:
    stream: Iterable[Record] = records
    columns = _Columns()
    counter = _Counter()
    counted = False
    aggregated = False
    limit = default_limit
    for command in query.commands:
        if isinstance(command, (model.Stats, model.Sort, model.Limit)) and not counted:
            stream, counted = _count(stream, counter), True
        stream, limit, aggregated = _apply(command, stream, columns, limit, aggregated)
    if not counted:
        stream = _count(stream, counter)
    rows = list(_take(stream, limit))
    if columns.display is not None:
        names = columns.display
    elif columns.listed:
        names = columns.listed
    else:
        names = list(rows[0]) if aggregated and rows else list(DEFAULT_COLUMNS)
    return Outcome(names, rows, counter.value, aggregated)


def _apply(command: model.Command, stream: Iterable[Record], columns: _Columns, limit: int,
           aggregated: bool) -> tuple[Iterable[Record], int, bool]:
    if isinstance(command, model.Fields):
        computed = [(item.name, compile_expr(item.expr)) for item in command.items]
        for name, _ in computed:
            columns.add(name)
        return _with_fields(stream, computed), limit, aggregated
    if isinstance(command, model.Display):
        columns.display = list(command.names)
        return stream, limit, aggregated
    if isinstance(command, model.Filter):
        test = compile_expr(command.condition)
        return (r for r in stream if truthy(test(r))), limit, aggregated
    if isinstance(command, model.Stats):
        columns.listed, columns.display = [], None
        return _stats(command, stream), limit, True
    if isinstance(command, model.Sort):
        return _sorted(command, stream), limit, aggregated
    if isinstance(command, model.Limit):
        return _take(stream, command.count), min(limit, command.count), aggregated
    if isinstance(command, model.Parse):
        return _parsed(command, stream), limit, aggregated
    return _dedup(command.names, stream), limit, aggregated


def _count(stream: Iterable[Record], counter: _Counter) -> Iterator[Record]:
    for record in stream:
        counter.value += 1
        yield record


def _take(stream: Iterable[Record], count: int) -> Iterator[Record]:
    """The first `count` records; the rest are still read, so statistics count every match (as AWS's do)."""
    taken = 0
    for record in stream:
        if taken < count:
            taken += 1
            yield record


def _with_fields(stream: Iterable[Record], computed: list[tuple[str, Compiled]]) -> Iterator[Record]:
    for record in stream:
        yield {**record, **{name: fn(record) for name, fn in computed}}


def _parsed(command: model.Parse, stream: Iterable[Record]) -> Iterator[Record]:
    source = compile_expr(command.source)
    for record in stream:
        value = source(record)
        found = command.regex.search(as_text(value)) if value is not None else None
        if found is None:
            yield record
            continue
        if command.regex.groupindex:
            yield {**record, **{name: found.group(name) for name in command.names}}
        else:
            yield {**record, **dict(zip(command.names, found.groups(), strict=True))}


def _dedup(names: tuple[str, ...], stream: Iterable[Record]) -> Iterator[Record]:
    seen: set[tuple[str, ...]] = set()
    for record in stream:
        key = tuple(as_text(record.get(name)) for name in names)
        if key not in seen:
            seen.add(key)
            yield record


def _sorted(command: model.Sort, stream: Iterable[Record]) -> list[Record]:
    rows = list(stream)
    for expr, descending in reversed(command.keys):  # stable sorts, last key first
        fn = compile_expr(expr)
        present = [r for r in rows if fn(r) is not None]
        missing = [r for r in rows if fn(r) is None]
        present.sort(key=lambda r: _sort_key(fn(r)), reverse=descending)
        rows = present + missing  # missing values sort last either way
    return rows


def _sort_key(value: Any) -> tuple[int, float, str]:
    number = as_number(value)
    return (0, number, "") if number is not None else (1, 0.0, as_text(value))


def _stats(command: model.Stats, stream: Iterable[Record]) -> Iterator[Record]:
    groups = [(item.name, compile_expr(item.expr)) for item in command.groups]
    calls = [call for item in command.aggregates for call in _aggregate_calls(item.expr)]
    arguments = [compile_expr(call.args[0]) if call.args else None for call in calls]
    table: dict[tuple[str, ...], tuple[Record, list[Aggregation]]] = {}
    for record in stream:
        shown = {name: fn(record) for name, fn in groups}
        key = tuple(as_text(v) for v in shown.values())
        entry = table.get(key)
        if entry is None:
            entry = table[key] = (shown, [_aggregation(call) for call in calls])
        stamp = int(record.get("@timestamp") or 0)
        for argument, aggregation in zip(arguments, entry[1], strict=True):
            aggregation.add(1 if argument is None else argument(record), stamp)
    outputs = [(item.name, compile_expr(item.expr)) for item in command.aggregates]
    for shown, aggregations in table.values():
        results = {call.text: a.result() for call, a in zip(calls, aggregations, strict=True)}
        yield {**shown, **{name: fn(results) for name, fn in outputs}}


def _aggregation(call: model.Call) -> Aggregation:
    name = "pct" if call.name == "percentile" else call.name
    parameter = call.args[1].value if name == "pct" and isinstance(call.args[1], model.Literal) else None
    return Aggregation(name, float(parameter) if parameter is not None else None)


def _aggregate_calls(expr: model.Expr) -> list[model.Call]:
    if isinstance(expr, model.Call) and expr.name in functions.AGGREGATIONS:
        return [expr]
    if isinstance(expr, model.Call):
        return [c for a in expr.args for c in _aggregate_calls(a)]
    if isinstance(expr, model.Binary):
        return _aggregate_calls(expr.left) + _aggregate_calls(expr.right)
    if isinstance(expr, model.Unary):
        return _aggregate_calls(expr.operand)
    return []


# -- expressions -------------------------------------------------------------------------------
def compile_expr(expr: model.Expr) -> Compiled:
    if isinstance(expr, model.Field):
        name = expr.name
        return lambda record: record.get(name)
    if isinstance(expr, model.Literal):
        value = expr.value
        return lambda record: value
    if isinstance(expr, model.Duration):
        milliseconds = expr.milliseconds
        return lambda record: milliseconds
    inner = _compile_composite(expr)
    text = expr.text
    # After stats, a column named like the expression (`count(*)`) holds its value.
    return lambda record: record[text] if text in record else inner(record)


def _compile_composite(expr: model.Expr) -> Compiled:
    if isinstance(expr, model.Call):
        return _compile_call(expr)
    if isinstance(expr, model.Unary):
        operand = compile_expr(expr.operand)
        if expr.operator == "not":
            return lambda record: not truthy(operand(record))
        return lambda record: None if as_number(operand(record)) is None else -as_number(operand(record))  # type: ignore[operator]
    if isinstance(expr, model.Binary):
        return _compile_binary(expr)
    if isinstance(expr, model.Like):
        return _compile_like(expr)
    if isinstance(expr, model.InList):
        operand = compile_expr(expr.operand)
        items = [compile_expr(item) for item in expr.items]
        negated = expr.negated
        def member(record: Record) -> bool:
            value = operand(record)
            return value is not None and any(_equal(value, item(record)) for item in items) != negated
        return member
    if isinstance(expr, model.ListValue):
        items = [compile_expr(item) for item in expr.items]
        return lambda record: [item(record) for item in items]
    raise TypeError(f"not an expression: {expr!r}")


def _compile_call(call: model.Call) -> Compiled:
    if call.name == "bin":
        size = call.args[0].milliseconds if isinstance(call.args[0], model.Duration) else 60_000
        return lambda record: functions.Timestamp(int(record.get("@timestamp") or 0) // size * size)
    if call.name in functions.AGGREGATIONS:
        text = call.text
        return lambda record: record.get(text)
    fn = functions.SCALAR[call.name][2]
    args = [compile_expr(a) for a in call.args]
    return lambda record: fn(*(a(record) for a in args))


def _compile_binary(expr: model.Binary) -> Compiled:
    left, right, op = compile_expr(expr.left), compile_expr(expr.right), expr.operator
    if op == "and":
        return lambda record: truthy(left(record)) and truthy(right(record))
    if op == "or":
        return lambda record: truthy(left(record)) or truthy(right(record))
    if op in _ARITHMETIC:
        arithmetic = _ARITHMETIC[op]

        def calculate(record: Record) -> Any:
            a, b = as_number(left(record)), as_number(right(record))
            if a is None or b is None:
                return None
            try:
                return arithmetic(a, b)
            except (ZeroDivisionError, ValueError, OverflowError):
                return None
        return calculate
    return lambda record: _compare(left(record), op, right(record))


def _compile_like(expr: model.Like) -> Compiled:
    operand, pattern, negated = compile_expr(expr.operand), expr.pattern, expr.negated
    if isinstance(pattern, str):
        return lambda record: operand(record) is not None and (pattern in as_text(operand(record))) != negated
    return lambda record: operand(record) is not None and (pattern.search(as_text(operand(record))) is not None) != negated


def _equal(a: Any, b: Any) -> bool:
    return _compare(a, "=", b)


def _compare(a: Any, op: str, b: Any) -> bool:
    if a is None or b is None:  # a comparison with a missing field holds for no record
        return False
    x, y = as_number(a), as_number(b)
    if x is None or y is None:
        left, right = as_text(a), as_text(b)
        return {"=": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
                ">": left > right, ">=": left >= right}[op]
    return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]

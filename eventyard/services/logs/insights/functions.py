"""Logs Insights functions: scalar ones (strlen, concat, ispresent, datefloor, ...) and the
aggregations `stats` takes (count, sum, avg, min, max, pct, stddev, count_distinct, earliest,
latest). Values are Python strings, numbers, `Timestamp`s and None (a missing field); strings that
hold numbers count as numbers, as Insights converts them."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_NUMBER = re.compile(r"\s*-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\s*")


class Timestamp(int):
    """Milliseconds since the epoch, shown as `2024-01-02 03:04:05.678`."""

    def __str__(self) -> str:
        moment = datetime.fromtimestamp(int(self) / 1000, UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(self) % 1000:03d}"


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    return None


def as_text(value: Any) -> str:
    """How a value appears in results and string functions."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Timestamp):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value != ""
    return bool(value)


def _text_fn(fn: Callable[[str], Any]) -> Callable[..., Any]:
    return lambda value: None if value is None else fn(as_text(value))


def _number_fn(fn: Callable[[float], Any]) -> Callable[..., Any]:
    def apply(value: Any) -> Any:
        number = as_number(value)
        return None if number is None else fn(number)
    return apply


def _floor_time(value: Any, milliseconds: Any, ceil: bool = False) -> Timestamp | None:
    stamp, size = as_number(value), as_number(milliseconds)
    if stamp is None or not size:
        return None
    floored = int(stamp) - int(stamp) % int(size)
    return Timestamp(floored + int(size) if ceil and floored != int(stamp) else floored)


def _substr(value: Any, start: Any, length: Any = None) -> str | None:
    if value is None:
        return None
    text, begin = as_text(value), int(as_number(start) or 0)
    return text[begin:] if length is None else text[begin:begin + int(as_number(length) or 0)]


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        numbers = [n for n in (as_number(v) for v in values) if n is not None]
        return pick(numbers) if numbers else None
    return apply


# name -> (minimum arguments, maximum arguments or None, function of the argument values)
SCALAR: dict[str, tuple[int, int | None, Callable[..., Any]]] = {
    "strlen": (1, 1, _text_fn(len)),
    "tolower": (1, 1, _text_fn(str.lower)),
    "toupper": (1, 1, _text_fn(str.upper)),
    "trim": (1, 1, _text_fn(str.strip)),
    "ltrim": (1, 1, _text_fn(str.lstrip)),
    "rtrim": (1, 1, _text_fn(str.rstrip)),
    "concat": (1, None, lambda *values: "".join(as_text(v) for v in values)),
    "substr": (2, 3, _substr),
    "replace": (3, 3, lambda v, old, new: None if v is None else as_text(v).replace(as_text(old), as_text(new))),
    "strcontains": (2, 2, lambda v, part: None if v is None else int(as_text(part) in as_text(v))),
    "ispresent": (1, 1, lambda v: v is not None),
    "isempty": (1, 1, lambda v: v is None or as_text(v) == ""),
    "isblank": (1, 1, lambda v: v is None or as_text(v).strip() == ""),
    "coalesce": (1, None, lambda *values: next((v for v in values if v is not None), None)),
    "abs": (1, 1, _number_fn(abs)),
    "ceil": (1, 1, _number_fn(lambda n: float(math.ceil(n)))),
    "floor": (1, 1, _number_fn(lambda n: float(math.floor(n)))),
    "sqrt": (1, 1, _number_fn(lambda n: math.sqrt(n) if n >= 0 else None)),
    "log": (1, 1, _number_fn(lambda n: math.log(n) if n > 0 else None)),
    "pow": (2, 2, lambda a, b: None if as_number(a) is None or as_number(b) is None
            else float(as_number(a) ** as_number(b))),  # type: ignore[operator]
    "greatest": (1, None, _extreme(max)),
    "least": (1, None, _extreme(min)),
    "datefloor": (2, 2, _floor_time),
    "dateceil": (2, 2, lambda v, size: _floor_time(v, size, ceil=True)),
    "frommillis": (1, 1, _number_fn(lambda n: Timestamp(int(n)))),
    "tomillis": (1, 1, _number_fn(lambda n: float(int(n)))),
}


# -- aggregations -----------------------------------------------------------------------------
@dataclass
class Aggregation:
    """Collects one aggregate call's values over a group's records."""

    name: str
    parameter: float | None = None  # pct's percentile
    values: list[Any] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)  # earliest/latest: each value's @timestamp

    def add(self, value: Any, timestamp: int) -> None:
        self.values.append(value)
        self.stamps.append(timestamp)

    def result(self) -> Any:
        present = [v for v in self.values if v is not None]
        if self.name == "count":
            return float(len(present))
        if self.name == "count_distinct":
            return float(len({as_text(v) for v in present}))
        if self.name in {"earliest", "latest"}:
            pairs = [(t, v) for t, v in zip(self.stamps, self.values, strict=True) if v is not None]
            if not pairs:
                return None
            return (min if self.name == "earliest" else max)(pairs, key=lambda pair: pair[0])[1]
        if self.name in {"min", "max"} and present and all(as_number(v) is None for v in present):
            return (min if self.name == "min" else max)(as_text(v) for v in present)
        numbers = [n for n in (as_number(v) for v in present) if n is not None]
        return _numeric(self.name, numbers, self.parameter)


def _numeric(name: str, numbers: list[float], parameter: float | None) -> float | None:
    if not numbers:
        return 0.0 if name == "sum" else None
    if name == "sum":
        return math.fsum(numbers)
    if name == "avg":
        return math.fsum(numbers) / len(numbers)
    if name == "min":
        return min(numbers)
    if name == "max":
        return max(numbers)
    if name == "stddev":
        mean = math.fsum(numbers) / len(numbers)
        return math.sqrt(math.fsum((n - mean) ** 2 for n in numbers) / len(numbers))
    ordered = sorted(numbers)  # pct / percentile: nearest rank
    rank = max(1, math.ceil((parameter or 0) / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


AGGREGATIONS = {"count", "count_distinct", "sum", "avg", "min", "max", "stddev", "pct", "percentile", "earliest",
                "latest"}
ONE_ARGUMENT = AGGREGATIONS - {"count", "pct", "percentile"}

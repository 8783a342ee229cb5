"""A mergeable sketch of a distribution, for percentiles of aggregated metric values.

Values fall into logarithmic buckets (the DDSketch construction): bucket `i` holds values in
(gamma^(i-1), gamma^i] with gamma = (1 + a) / (1 - a), so any quantile read from the sketch is within
a relative error `a` of a value of the data at that rank. Two sketches merge by adding their bucket
counts, which is what lets metrics aggregated per period (in memory, on several nodes, or sent by
PutMetricData as Values/Counts) be combined into any longer period without keeping raw values.
Negative values have a mirrored set of buckets; zero (and values too small to bucket) its own count.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_MIN_INDEXABLE = 1e-9  # smaller magnitudes count as zero


class Sketch:
    __slots__ = ("positive", "negative", "zeros", "count")

    def __init__(self) -> None:
        self.positive: dict[int, float] = {}
        self.negative: dict[int, float] = {}
        self.zeros = 0.0
        self.count = 0.0

    # -- building ---------------------------------------------------------------------------
    def add(self, value: float, weight: float = 1.0) -> None:
        if weight <= 0:
            return
        self.count += weight
        magnitude = abs(value)
        if magnitude < _MIN_INDEXABLE:
            self.zeros += weight
            return
        store = self.positive if value > 0 else self.negative
        index = math.ceil(math.log(magnitude) / _LOG_GAMMA)
        store[index] = store.get(index, 0.0) + weight

    def merge(self, other: Sketch) -> None:
        for index, weight in other.positive.items():
            self.positive[index] = self.positive.get(index, 0.0) + weight
        for index, weight in other.negative.items():
            self.negative[index] = self.negative.get(index, 0.0) + weight
        self.zeros += other.zeros
        self.count += other.count

    # -- reading ----------------------------------------------------------------------------
    def buckets(self) -> Iterator[tuple[float, float]]:
        """(representative value, weight) in ascending order of value."""
        for index in sorted(self.negative, reverse=True):
            yield -_representative(index), self.negative[index]
        if self.zeros:
            yield 0.0, self.zeros
        for index in sorted(self.positive):
            yield _representative(index), self.positive[index]

    def quantile(self, q: float) -> float | None:
        """The value at rank q*(count-1), to within the relative accuracy; None when empty."""
        if self.count <= 0:
            return None
        rank = q * (self.count - 1)
        seen = 0.0
        last = 0.0
        for value, weight in self.buckets():
            seen += weight
            last = value
            if seen > rank:
                return value
        return last

    # -- storage ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"p": {str(k): v for k, v in self.positive.items()}}
        if self.negative:
            out["n"] = {str(k): v for k, v in self.negative.items()}
        if self.zeros:
            out["z"] = self.zeros
        return out

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Sketch:
        sketch = cls()
        sketch.positive = {int(k): float(v) for k, v in document.get("p", {}).items()}
        sketch.negative = {int(k): float(v) for k, v in document.get("n", {}).items()}
        sketch.zeros = float(document.get("z", 0.0))
        sketch.count = sum(sketch.positive.values()) + sum(sketch.negative.values()) + sketch.zeros
        return sketch


def _representative(index: int) -> float:
    """The value reported for a bucket: within the relative accuracy of everything in it."""
    return 2 * _GAMMA ** index / (_GAMMA + 1)

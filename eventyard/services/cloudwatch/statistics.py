"""Statistics of aggregated metric values: the five plain ones and CloudWatch's extended statistics.

Extended statistics are read from the period's percentile sketch: `p90`, trimmed mean `tm90` /
`TM(10%:90%)` / `TM(150:1000)`, winsorized mean `wm`/`WM`, trimmed count `tc`/`TC`, trimmed sum
`ts`/`TS`, percentile rank `PR(:300)` and `IQM`. Values are within the sketch's relative accuracy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from eventyard.runtime.metric_store import Aggregate
from eventyard.runtime.sketch import RELATIVE_ACCURACY, Sketch

SIMPLE_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_NUMBER = r"\d+(?:\.\d+)?"
_SHORT = re.compile(rf"^(p|tm|wm|tc|ts)({_NUMBER})$")
_RANGE = re.compile(rf"^(TM|WM|TC|TS|PR)\(({_NUMBER})?(%)?:({_NUMBER})?(%)?\)$")


@dataclass(frozen=True)
class ExtendedStatistic:
    """A parsed extended statistic: `kind` is p, TM, WM, TC, TS or PR; bounds are fractions of the
    data (percent given) or values (absolute); None means unbounded on that side."""

    kind: str
    low: float | None
    high: float | None
    percent: bool

    def minimum_samples(self) -> float:
        """How many values a percentile needs to be statistically significant (10 / (1 - p))."""
        if self.kind != "p" or self.high is None or self.high >= 1:
            return 0.0
        return 10 / (1 - self.high)


def parse_extended(text: str) -> ExtendedStatistic | None:
    """None when `text` is not an extended statistic CloudWatch knows."""
    if text == "IQM":
        return ExtendedStatistic("TM", 0.25, 0.75, True)
    short = _SHORT.match(text)
    if short:
        kind, value = short.group(1), float(short.group(2))
        if not 0 <= value <= 100:
            return None
        return ExtendedStatistic("p" if kind == "p" else kind.upper(), None if kind == "p" else 0.0, value / 100, True)
    ranged = _RANGE.match(text)
    if not ranged:
        return None
    kind, low, low_pct, high, high_pct = ranged.groups()
    if low is None and high is None:
        return None
    percent = bool(low_pct or high_pct)
    if kind == "PR" and percent:
        return None
    if percent and not ((low is None or low_pct) and (high is None or high_pct)):
        return None  # both bounds must be of one kind
    scale = 100.0 if percent else 1.0
    low_value = float(low) / scale if low is not None else None
    high_value = float(high) / scale if high is not None else None
    if percent and any(v is not None and not 0 <= v <= 1 for v in (low_value, high_value)):
        return None
    if low_value is not None and high_value is not None and low_value > high_value:
        return None
    return ExtendedStatistic(kind, low_value, high_value, percent)


def simple(aggregate: Aggregate, name: str) -> float:
    if name == "SampleCount":
        return aggregate.sample_count
    if name == "Sum":
        return aggregate.total
    if name == "Average":
        return aggregate.total / aggregate.sample_count if aggregate.sample_count else math.nan
    if name == "Minimum":
        return aggregate.minimum
    return aggregate.maximum


def extended(aggregate: Aggregate, statistic: ExtendedStatistic) -> float | None:
    """None when the period's values are unknown (statistic sets) or nothing falls in the range."""
    sketch = aggregate.sketch
    if sketch is None or sketch.count <= 0:
        return None
    if statistic.kind == "p":
        value = sketch.quantile(statistic.high if statistic.high is not None else 1.0)
        # the sketch's representative may stray past the true extremes; the extremes are exact
        return None if value is None else min(max(value, aggregate.minimum), aggregate.maximum)
    if statistic.kind == "PR":
        return _percentile_rank(sketch, statistic)
    if statistic.kind == "WM":
        return _winsorized_mean(sketch, statistic)
    kept = list(_within(sketch, statistic))
    weight = sum(w for _, w in kept)
    if statistic.kind == "TC":
        return weight
    total = sum(v * w for v, w in kept)
    if statistic.kind == "TS":
        return total
    return total / weight if weight > 0 else None


def _bounds(sketch: Sketch, statistic: ExtendedStatistic) -> tuple[float, float]:
    """The value bounds of a statistic: percentile bounds read from the sketch."""
    if not statistic.percent:
        low = statistic.low if statistic.low is not None else -math.inf
        high = statistic.high if statistic.high is not None else math.inf
        return low, high
    low_value = sketch.quantile(statistic.low) if statistic.low else None
    high_value = sketch.quantile(statistic.high) if statistic.high is not None and statistic.high < 1 else None
    return (low_value if low_value is not None else -math.inf), (high_value if high_value is not None else math.inf)


def _within(sketch: Sketch, statistic: ExtendedStatistic) -> Iterator[tuple[float, float]]:
    """Buckets inside the statistic's range. Percent bounds: the lower bound is exclusive unless it
    is 0%, the upper inclusive, as CloudWatch documents for TM(10%:90%) and friends."""
    low, high = _bounds(sketch, statistic)
    if not statistic.percent:  # a value bound meets bucket representatives, which stray by the accuracy
        low, high = low - abs(low) * RELATIVE_ACCURACY, high + abs(high) * RELATIVE_ACCURACY
    inclusive_low = not statistic.percent or not statistic.low
    for value, weight in sketch.buckets():
        above = value >= low if inclusive_low else value > low
        if above and value <= high:
            yield value, weight


def _winsorized_mean(sketch: Sketch, statistic: ExtendedStatistic) -> float | None:
    low, high = _bounds(sketch, statistic)
    total = sum(min(max(value, low), high) * weight for value, weight in sketch.buckets())
    return total / sketch.count if sketch.count else None


def _percentile_rank(sketch: Sketch, statistic: ExtendedStatistic) -> float:
    low = statistic.low - abs(statistic.low) * RELATIVE_ACCURACY if statistic.low is not None else -math.inf
    high = statistic.high + abs(statistic.high) * RELATIVE_ACCURACY if statistic.high is not None else math.inf
    inside = sum(w for v, w in sketch.buckets() if low < v <= high or (statistic.low is None and v <= high))
    return 100.0 * inside / sketch.count


def statistic_value(aggregate: Aggregate, name: str) -> float | None:
    """Any statistic by name (`Average`, `p99`, `TM(10%:90%)`); None when it cannot be computed."""
    if name in SIMPLE_STATISTICS:
        return simple(aggregate, name)
    parsed = parse_extended(name)
    return extended(aggregate, parsed) if parsed is not None else None

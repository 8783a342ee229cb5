"""Reading CloudWatch through its API for the pages that show numbers over time. While the
CloudWatch service is absent (or refuses), every reader answers "no data" instead of failing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventyard.console.web import ConsoleRequest
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.console.console import Console

CHART_WIDTH, CHART_HEIGHT = 640.0, 160.0


@dataclass
class Chart:
    """A line chart of one statistic over time, as SVG polyline points."""

    points: str
    first: float
    last: float
    low: float
    high: float
    count: int


async def datapoints(console: Console, request: ConsoleRequest, region: str, namespace: str, metric: str,
                     dimensions: dict[str, str], statistic: str = "Average", hours: float = 3.0,
                     period: int = 60) -> list[tuple[float, float]] | None:
    """(time, value) pairs, oldest first; None when CloudWatch is not there to ask."""
    if not console.has("cloudwatch"):
        return None
    now = console.now()
    try:
        answer = await console.call(request, "cloudwatch", "GetMetricStatistics", {
            "Namespace": namespace, "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            "StartTime": now - hours * 3600, "EndTime": now, "Period": period, "Statistics": [statistic],
        }, region)
    except AwsError:
        return None
    found = [(_epoch(p["Timestamp"]), float(p[statistic])) for p in answer.get("Datapoints", []) if statistic in p]
    return sorted(found)


async def latest_value(console: Console, request: ConsoleRequest, region: str, namespace: str, metric: str,
                       dimensions: dict[str, str], statistic: str = "Maximum") -> float | None:
    found = await datapoints(console, request, region, namespace, metric, dimensions, statistic, hours=0.25)
    return found[-1][1] if found else None


def chart(points: list[tuple[float, float]]) -> Chart | None:
    if not points:
        return None
    first, last = points[0][0], points[-1][0]
    low, high = min(0.0, min(v for _, v in points)), max(v for _, v in points)
    span_t, span_v = (last - first) or 1.0, (high - low) or 1.0
    drawn = " ".join(f"{(t - first) / span_t * CHART_WIDTH:.1f},{CHART_HEIGHT - (v - low) / span_v * CHART_HEIGHT:.1f}"
                     for t, v in points)
    return Chart(drawn, first, last, low, high, len(points))


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)

"""Checking a service's published metric as a user sees it: ListMetrics lists it with exactly its
dimensions, and GetMetricStatistics answers its datapoints with its unit and the expected value."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tests.cloudwatch.conftest import server_now
from tests.conftest import ServerProcess


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    unit: str
    statistic: str = "Sum"
    value: float | None = None  # the statistic over the last hour (Sum/SampleCount: added; else its extreme)
    at_least: bool = False  # `value` is a lower bound (work that may be retried counts again)

    def __str__(self) -> str:
        return f"{self.namespace} {self.name} {self.dimensions} ({self.unit}, {self.statistic} {self.value})"


def _listed(cw: Any, metric: Metric) -> bool:
    wanted = [{"Name": k, "Value": v} for k, v in metric.dimensions.items()]
    found = cw.list_metrics(Namespace=metric.namespace, MetricName=metric.name, Dimensions=wanted)["Metrics"]
    return any({d["Name"]: d["Value"] for d in m["Dimensions"]} == metric.dimensions for m in found)


def _observed(cw: Any, server: ServerProcess, metric: Metric) -> tuple[float, set[str]] | None:
    now = server_now(server)
    points = cw.get_metric_statistics(
        Namespace=metric.namespace, MetricName=metric.name, StartTime=now - 3600, EndTime=now + 120, Period=60,
        Dimensions=[{"Name": k, "Value": v} for k, v in metric.dimensions.items()],
        Statistics=[metric.statistic])["Datapoints"]
    if not points:
        return None
    values = [p[metric.statistic] for p in points]
    combined = {"Maximum": max, "Minimum": min}.get(metric.statistic, sum)(values)
    return combined, {p["Unit"] for p in points}


def problem(cw: Any, server: ServerProcess, metric: Metric) -> str | None:
    """What is wrong with `metric` as published now, or None."""
    observed = _observed(cw, server, metric)
    if observed is None:
        return "no datapoints"
    value, units = observed
    if units != {metric.unit}:
        return f"units {units}"
    if metric.value is not None and not (value >= metric.value if metric.at_least else value == metric.value):
        return f"{metric.statistic} is {value}"
    if not _listed(cw, metric):
        return "not listed with exactly these dimensions"
    return None


def assert_published(cw: Any, server: ServerProcess, metrics: list[Metric], rounds: int = 6,
                     wait: float = 10.0) -> None:
    """Every metric published as expected. Each round moves the server's clock a minute on (the period
    closes and the recorder writes it within a second or so) and polls for a generous while; work that
    finishes after a period closed (a delivery) lands in the next round's period."""
    pending = list(metrics)
    problems: dict[str, str] = {}
    for _ in range(rounds):
        server.advance_clock(60)
        deadline = time.monotonic() + wait
        while True:
            problems = {str(m): p for m in pending if (p := problem(cw, server, m)) is not None}
            pending = [m for m in pending if str(m) in problems]
            if not pending:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
    raise AssertionError("metrics not published as expected:\n" + "\n".join(
        f"  {m}: {p}" for m, p in problems.items()))

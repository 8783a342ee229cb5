"""Embedded Metric Format: log lines that carry metrics, as Lambda functions (aws-lambda-powertools
`Metrics`, aws-embedded-metrics) write them, become metrics as on AWS.

A line is a JSON object whose `_aws` member names, in `CloudWatchMetrics`, a namespace, dimension sets
and metric definitions; the values (a number or up to 100 of them) and the dimension values are the
line's own top-level members. A line that is not valid EMF is a log line like any other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from eventyard.runtime.metrics import MetricsRecorder

MAX_DIMENSIONS = 30
MAX_METRICS = 100
MAX_VALUES = 100


def record_lines(recorder: MetricsRecorder, account_id: str, region: str, lines: Iterable[tuple[int, str]]) -> int:
    """Record the metrics of every EMF line among (ms timestamp, message) log lines; answers how many."""
    if not recorder.enabled:
        return 0
    found = 0
    for stamp, message in lines:
        text = message.strip()
        if not text.startswith("{") or '"_aws"' not in text:
            continue
        try:
            document = json.loads(text)
        except ValueError:
            continue
        if isinstance(document, dict) and _record(recorder, account_id, region, document, stamp / 1000):
            found += 1
    return found


def _record(recorder: MetricsRecorder, account_id: str, region: str, document: dict[str, Any],
            received_at: float) -> bool:
    metadata = document.get("_aws")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("CloudWatchMetrics"), list):
        return False
    stamp = metadata.get("Timestamp")
    moment = stamp / 1000 if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else received_at
    recorded = False
    for directive in metadata["CloudWatchMetrics"]:
        if not isinstance(directive, dict):
            continue
        namespace = directive.get("Namespace")
        metrics = directive.get("Metrics")
        if not isinstance(namespace, str) or not namespace or not isinstance(metrics, list) or \
                len(metrics) > MAX_METRICS:
            continue
        for dims in _dimension_sets(directive.get("Dimensions"), document):
            for definition in metrics:
                recorded |= _record_metric(recorder, account_id, region, namespace, dims, definition, document, moment)
    return recorded


def _dimension_sets(sets: Any, document: dict[str, Any]) -> list[tuple[tuple[str, str], ...]]:
    if not isinstance(sets, list) or not sets:
        return [()]
    out = []
    for names in sets:
        if not isinstance(names, list) or len(names) > MAX_DIMENSIONS:
            continue
        values = [(n, document.get(n)) for n in names]
        if all(isinstance(n, str) and isinstance(v, str) for n, v in values):
            out.append(tuple(sorted((n, str(v)) for n, v in values)))
    return out


def _record_metric(recorder: MetricsRecorder, account_id: str, region: str, namespace: str,
                   dims: tuple[tuple[str, str], ...], definition: Any, document: dict[str, Any], moment: float) -> bool:
    if not isinstance(definition, dict) or not isinstance(definition.get("Name"), str):
        return False
    raw = document.get(definition["Name"])
    values = raw if isinstance(raw, list) else [raw]
    numbers = [float(v) for v in values[:MAX_VALUES]
               if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if not numbers:
        return False
    given_unit = definition.get("Unit")
    unit = given_unit if isinstance(given_unit, str) else "None"
    resolution = 1 if definition.get("StorageResolution") == 1 else 60
    for number in numbers:
        recorder.observe(namespace, definition["Name"], dims, number, unit, account_id=account_id, region=region,
                         timestamp=moment, resolution=resolution)
    return True

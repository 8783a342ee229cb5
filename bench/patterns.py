"""Events/s of the compiled Machine, the reference matcher and moto's EventPattern, for 10 to
10,000 distinct rules on one realistic event; prints a table with ratios.

    python3 bench/patterns.py [--seconds 1.0] [--sizes 10,100,1000,10000]

Every cell runs for about ``--seconds`` (at least a few events), so the whole run stays bounded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventyard.patterns import Machine, compile_event_pattern  # noqa: E402
from eventyard.patterns.reference import reference_match_all  # noqa: E402

EVENT: dict[str, Any] = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "OrderPlaced",
    "source": "app.svc10", "account": "123456789012", "time": "2024-05-01T12:00:00Z",
    "region": "us-east-1", "resources": ["arn:aws:ecs:us-east-1:123456789012:task/abc"],
    "detail": {
        "customer": {"id": "C17-4411", "tier": "gold", "email": "ana@example.com"},
        "amount": 4321.5, "currency": "EUR", "status": "PAID",
        "order": {"id": "o-99812", "region": "r24", "channel": "web"},
        "items": [{"sku": "SKU-9", "qty": 2, "price": 10.5}, {"sku": "SKU-99", "qty": 1, "price": 4300.5}],
    },
}


def rule(i: int) -> dict[str, Any]:
    """A realistic mix: exact, prefix, numeric ranges, anything-but, nested fields."""
    kind = i % 5
    if kind == 0:
        return {"source": [f"app.svc{i}"], "detail-type": ["OrderPlaced", "OrderUpdated"]}
    if kind == 1:
        return {"detail": {"customer": {"id": [{"prefix": f"C{i}-"}], "tier": ["gold", "silver"]}}}
    if kind == 2:
        return {"source": [f"app.svc{i % 50}"], "detail": {"amount": [{"numeric": [">=", i, "<", i + 50]}]}}
    if kind == 3:
        return {"detail-type": [f"Type{i}"], "detail": {"status": [{"anything-but": ["CANCELLED", f"S{i}"]}]}}
    return {"detail": {"order": {"region": [f"r{i}"]}, "items": {"sku": [f"SKU-{i}"]}}}


def throughput(fn: Callable[[], Any], seconds: float) -> tuple[float, Any]:
    result = fn()
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 3:
            return count / elapsed, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--sizes", default="10,100,1000,10000")
    args = ap.parse_args()
    try:
        from moto.events.models import EventPattern
    except ImportError:  # moto is a bench-only dependency
        EventPattern = None  # type: ignore[assignment,misc]

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        texts = {i: json.dumps(rule(i)) for i in range(n)}
        compiled = {i: compile_event_pattern(t) for i, t in texts.items()}
        t0 = time.perf_counter()
        machine = Machine()
        for i, p in compiled.items():
            machine.add(i, p)
        build = time.perf_counter() - t0
        m_rate, m_hits = throughput(lambda: machine.match(EVENT), args.seconds)
        r_rate, r_hits = throughput(lambda: reference_match_all(compiled, EVENT), args.seconds)
        assert m_hits == r_hits, (n, m_hits, r_hits)
        moto_rate = None
        if EventPattern is not None:
            moto_patterns = [EventPattern.load(t) for t in texts.values()]
            moto_rate, _ = throughput(lambda: [p.matches_event(EVENT) for p in moto_patterns], args.seconds)
        rows.append((n, build, len(m_hits), m_rate, r_rate, moto_rate))

    base = rows[0][3]
    print(f"{'rules':>7} {'build s':>8} {'hits':>5} {'machine ev/s':>13} {'vs 10 rules':>11} "
          f"{'reference ev/s':>15} {'moto ev/s':>10} {'machine/ref':>11} {'machine/moto':>12}")
    for n, build, hits, m, r, mo in rows:
        moto_text = f"{mo:10.0f}" if mo else f"{'n/a':>10}"
        ratio = f"{m / mo:11.1f}x" if mo else f"{'n/a':>12}"
        print(f"{n:>7} {build:8.2f} {hits:>5} {m:13.0f} {m / base:10.2f}x {r:15.1f} {moto_text} "
              f"{m / r:10.1f}x {ratio}")


if __name__ == "__main__":
    main()

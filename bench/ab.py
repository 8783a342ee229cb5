"""Before and after in the same minute: one scenario against Eventyard from this tree and from another
(e.g. `git worktree add /tmp/base <commit>`), in alternating short rounds, so a machine shared with
other work loads both alike. Reports the medians of requests/s and server CPU per request.

    python bench/ab.py SCENARIO --baseline DIR [--tree DIR] [--rounds 5] [--seconds 3] [--connections 8]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from load import CpuWindow, load_average, run_wrk
from peers import Peer, eventyard
from rawhttp import percentile, run_processes
from scenarios import SCENARIOS, Scenario


def one_round(peer: Peer, scenario: Scenario, context: object, seconds: float,
              connections: int) -> tuple[float, float, float, float]:
    """(requests/s, server CPU µs per request, p50 ms, p99 ms) of one round."""
    window = CpuWindow(peer.pid)
    if scenario.requests is not None:
        result = run_wrk(peer.url, scenario.requests(context), connections, seconds)
        count, p50, p99 = result.requests, result.p50_ms, result.p99_ms
    else:
        tally, _ = run_processes(scenario.raw, peer.url, 1, connections, seconds, context)
        count = tally.calls
        p50, p99 = (percentile(tally.latencies, 0.5) or 0.0) * 1000, (percentile(tally.latencies, 0.99) or 0.0) * 1000
    elapsed, server_cores, _ = window.close()
    return count / elapsed, server_cores * elapsed / max(count, 1) * 1e6, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--tree", type=Path, default=None, help="the tree measured as 'after' (default: this one)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    opts = parser.parse_args()
    scenario = SCENARIOS[opts.scenario]
    servers = [eventyard(opts.baseline, "before"), eventyard(opts.tree, "after")]
    results: dict[str, list[tuple[float, float, float, float]]] = {s.name: [] for s in servers}
    print(f"# load average before: {load_average()}")
    try:
        contexts = []
        for server in servers:
            server.start()
            contexts.append(scenario.setup(server))
        for _ in range(opts.rounds):
            for server, context in zip(servers, contexts, strict=True):
                results[server.name].append(one_round(server, scenario, context, opts.seconds, opts.connections))
    finally:
        for server in servers:
            server.stop()
    print(f"# load average after: {load_average()}")
    print(f"| {opts.scenario}, {opts.connections} conns | requests/s | server µs/request | p50 ms | p99 ms "
          "| p99 ms of each round |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, rounds in results.items():
        rate, cost, p50, p99 = (statistics.median(r[i] for r in rounds) for i in range(4))
        print(f"| {name} (median of {len(rounds)}) | {rate:,.0f} | {cost:,.1f} | {p50:.2f} | {p99:.2f} "
              f"| {', '.join(f'{r[3]:.1f}' for r in rounds)} |")


if __name__ == "__main__":
    main()

"""SendMessage's tail latency at one connection, and what sets it (issue 19, item 3).

    python bench/send_tail.py [--seconds 8] [--rounds 3] [--trees DIR[,DIR...]] [--env NAME=VALUE ...]

One server per tree (default: this one), one queue, wrk at one connection for `--seconds`, in
alternating rounds (a fresh server each round), printing p50 / p99 / p99.9 / max and requests/s.
Several trees side by side tell what a change does to the tail; `--env` applies to every server
(e.g. EVENTYARD_METRICS=off).
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from load import load_average, run_wrk
from peers import ROOT, eventyard
from scenarios import queue, send_requests


def one_round(tree: Path, seconds: float, env: dict[str, str]) -> tuple[float, float, float, float, float]:
    peer = eventyard(tree)
    peer.env.update(env)
    peer.start()
    try:
        requests = send_requests(queue(peer, "tail"))
        run_wrk(peer.url, requests, 1, 2)  # warm-up
        result = run_wrk(peer.url, requests, 1, seconds)
        return result.p50_ms, result.p99_ms, result.p999_ms, result.max_ms, result.rate
    finally:
        peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trees", default=str(ROOT))
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for every server")
    opts = parser.parse_args()
    env = dict(item.split("=", 1) for item in opts.env)
    trees = [Path(t) for t in opts.trees.split(",")]
    print(f"# load average before: {load_average()}")
    rows: dict[Path, list[tuple[float, float, float, float, float]]] = {tree: [] for tree in trees}
    for number in range(opts.rounds):
        for tree in trees if number % 2 == 0 else list(reversed(trees)):
            rows[tree].append(one_round(tree, opts.seconds, env))
            p50, p99, p999, top, rate = rows[tree][-1]
            print(f"# round {number + 1} {tree}: p50 {p50:.2f} p99 {p99:.2f} p99.9 {p999:.2f} max {top:.1f} ms,"
                  f" {rate:.0f} req/s", flush=True)
    print(f"# load average after: {load_average()}")
    print("| tree | p50 ms | p99 ms | p99.9 ms | max ms | requests/s | rounds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for tree, found in rows.items():
        med = [statistics.median(column) for column in zip(*found, strict=True)]
        print(f"| {os.path.relpath(tree, ROOT.parent)} | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.2f} | {med[3]:.1f} |"
              f" {med[4]:.0f} | {len(found)} (medians) |")


if __name__ == "__main__":
    main()

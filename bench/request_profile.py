"""Where a request's CPU goes: py-spy samples the server while wrk (or the raw client) drives one
hot operation, and the samples become microseconds of server CPU per request, by function.

    python bench/request_profile.py SCENARIO [--seconds 8] [--connections 8] [--top 25] [--checkout DIR] [--cprofile]
    python bench/request_profile.py --list

py-spy (`pip install -e '.[bench]'`) samples every thread of the server at 250 Hz; samples whose
innermost frame is a thread waiting for work (the event loop's select, the writer's queue, an idle
executor) are dropped, and the rest are scaled by the server CPU per request measured from /proc
over the same window. "self" is time in the function's own code (SQLite's C work shows under the
Python line that called it), "incl" includes its callees. `--checkout DIR` profiles Eventyard from
another tree (an older commit's `git worktree`), for before/after profiles in one sitting.

`--cprofile` runs the server under cProfile in every thread instead (bench/serve_profiled.py), timed
by each thread's CPU clock: exact call counts and CPU per call, unmoved by other work preempting the
server, but with the profiler's own overhead on every call (read the shares, not the totals).
"""

from __future__ import annotations

import argparse
import collections
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from load import CpuWindow, load_average, run_wrk
from peers import Peer, eventyard
from rawhttp import run_processes
from scenarios import SCENARIOS, Scenario

# Innermost frames of threads that wait for work (py-spy cannot always tell an idle thread).
IDLE = [re.compile(p) for p in (
    r"^SqliteDatabase\._writer_loop \(.*sqlite\.py:\d+\)$",  # filtered below by the line of queue.get
    r"^_worker \(concurrent/futures/thread\.py",
    r"^Runner\.run \(asyncio/runners\.py",
    r"^(select|poll|_poll|run_forever|_run_once) \(",
    r"^Condition\.wait \(|^Event\.wait \(|^Thread\.join \(|^_wait_for_tstate_lock \(",
)]


@dataclass
class Profile:
    requests: int
    seconds: float
    server_cpu: float
    samples: collections.Counter[str]
    self_samples: collections.Counter[str]
    busy: int

    @property
    def us_per_request(self) -> float:
        return self.server_cpu / max(self.requests, 1) * 1e6


def _idle(frame: str, writer_wait_lines: set[str]) -> bool:
    if frame.startswith("SqliteDatabase._writer_loop"):
        return frame in writer_wait_lines
    return any(p.search(frame) for p in IDLE[1:])


def _writer_wait_lines(checkout: Path) -> set[str]:
    """The writer loop's `self._queue.get()` line(s), as py-spy names the frame."""
    source = (checkout / "eventyard" / "storage" / "sqlite.py").read_text().splitlines()
    return {f"SqliteDatabase._writer_loop (eventyard/storage/sqlite.py:{n})"
            for n, line in enumerate(source, 1) if "self._queue.get(" in line}


def read_folded(path: Path, writer_wait_lines: set[str]) -> tuple[collections.Counter[str], collections.Counter[str], int]:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or _idle(frames[-1], writer_wait_lines):
            continue
        count = int(count_text)
        busy += count
        own[_function(frames[-1])] += count
        for name in {_function(f) for f in frames}:
            inclusive[name] += count
    return inclusive, own, busy


def _function(frame: str) -> str:
    return re.sub(r":\d+\)$", ")", frame).replace("/usr/lib/python3.11/", "").replace("site-packages/", "")


def drive(peer: Peer, scenario: Scenario, context: Any, seconds: float, connections: int) -> int:
    """Run the scenario's load; answers the number of requests sent."""
    if scenario.requests is not None:
        return run_wrk(peer.url, scenario.requests(context), connections, seconds).requests
    assert scenario.raw is not None
    return run_processes(scenario.raw, peer.url, 1, connections, seconds, context)[0].calls


def cprofile(scenario: Scenario, seconds: float, connections: int, top: int, checkout: Path | None) -> None:
    """The scenario against a server under cProfile (serve_profiled.py): CPU per request by function."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stats.prof"
        peer = eventyard(checkout)
        peer.command = [sys.executable, str(Path(__file__).with_name("serve_profiled.py")), *peer.command[3:]]
        peer.env["EVENTYARD_CPROFILE_OUT"] = str(out)
        peer.start(ready_service="health", timeout=120)
        try:
            context = scenario.setup(peer)
            drive(peer, scenario, context, 1, connections)  # warm-up: shapes compiled, caches filled
            assert peer.pid is not None
            os.kill(peer.pid, signal.SIGUSR1)
            window = CpuWindow(peer.pid)
            count = drive(peer, scenario, context, seconds, connections)
            elapsed, server_cores, _ = window.close()
            os.kill(peer.pid, signal.SIGUSR2)
            deadline = time.monotonic() + 60
            while not out.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.5)
            stats = pstats.Stats(str(out))
        finally:
            peer.stop()
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    print(f"## cProfile: {count / elapsed:,.0f} requests/s, server CPU {server_cores * elapsed / max(count, 1) * 1e6:,.1f} "
          f"µs/request (profiled, with cProfile's overhead); profiled CPU {total / max(count, 1) * 1e6:,.1f} "
          f"µs/request; load average {load_average()}\n")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    print("| own µs/request | % | calls/request | function |\n| ---: | ---: | ---: | --- |")
    for (path, line, name), (_, calls, own, _cumulative, _) in rows[:top]:
        where = re.sub(r"^.*/(site-packages|lib/python3\.\d+|work/main)/", "", path)
        print(f"| {own / count * 1e6:,.1f} | {100 * own / total:.1f} | {calls / count:,.1f} | `{name} ({where}:{line})` |")


def profile(peer: Peer, scenario: Scenario, seconds: float, connections: int, rate_hz: int,
            checkout: Path) -> Profile:
    context = scenario.setup(peer)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory() as tmp:
        folded = Path(tmp) / "folded.txt"
        sampler = subprocess.Popen([py_spy, "record", "-r", str(rate_hz), "-d", str(int(seconds) + 1), "-f", "raw",
                                    "-o", str(folded), "-p", str(peer.pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        window = CpuWindow(peer.pid)
        count = drive(peer, scenario, context, seconds, connections)
        elapsed, server_cores, _ = window.close()
        sampler.wait(timeout=seconds + 60)
        inclusive, own, busy = read_folded(folded, _writer_wait_lines(checkout))
    return Profile(count, elapsed, server_cores * elapsed, inclusive, own, busy)


def report(name: str, result: Profile, top: int) -> None:
    per = result.us_per_request
    print(f"## {name}: {result.requests / result.seconds:,.0f} requests/s, server CPU {per:,.1f} µs/request "
          f"({result.busy} busy samples; load average {load_average()})\n")
    for title, counter in (("self", result.self_samples), ("incl", result.samples)):
        print(f"| {title} µs/request | % | function |\n| ---: | ---: | --- |")
        for function, count in counter.most_common(top):
            share = count / max(result.busy, 1)
            print(f"| {share * per:,.1f} | {100 * share:.1f} | `{function}` |")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--checkout", type=Path, default=None, help="profile Eventyard from this tree")
    parser.add_argument("--cprofile", action="store_true", help="cProfile (per-thread CPU) instead of py-spy")
    opts = parser.parse_args()
    if opts.list or opts.scenario not in SCENARIOS:
        print("scenarios: " + ", ".join(SCENARIOS))
        return
    if opts.cprofile:
        cprofile(SCENARIOS[opts.scenario], opts.seconds, opts.connections, opts.top, opts.checkout)
        return
    checkout = (opts.checkout or Path(__file__).resolve().parents[1]).resolve()
    peer = eventyard(opts.checkout)
    peer.start()
    try:
        result = profile(peer, SCENARIOS[opts.scenario], opts.seconds, opts.connections, opts.rate, checkout)
    finally:
        peer.stop()
    report(f"{opts.scenario} ({checkout})", result, opts.top)


if __name__ == "__main__":
    main()


__all__: list[Any] = ["profile", "report"]

"""Instructions per request, counted by valgrind's callgrind: a measure of a request's cost that
does not move with the machine's load (the CPU-time columns of the other benchmarks do, on a
machine shared with other work).

    python bench/instructions.py SCENARIO[,SCENARIO...] [--requests 300] [--warm-up 100] [--baseline DIR]
                                 [--tree DIR] [--keep DIR]

Each server (this tree, and the `--baseline` tree if given, side by side) runs under
`valgrind --tool=callgrind` (start-up takes minutes there). After a warm-up, callgrind's counters
are dumped (which zeroes them), the scenario's requests are sent one at a time, and the second
dump's total over the request count is the cost of one request: every thread of the server (event
loop, SQLite writer, readers) counted, including the work a request leaves behind (deliveries: the
dump waits until the server is idle), start-up and set-up not. System calls count only their
user-space side.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from load import Request, tree_cpu
from peers import ROOT, Peer, free_port
from scenarios import SCENARIOS

START_UP_TIMEOUT = 900


def callgrind_peer(tree: Path, name: str, out_dir: Path) -> Peer:
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-eventyard-cg-")
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/{name}.%p", sys.executable,
               "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", data,
               "--log-level", "warning"]
    return Peer(name, command, port, env={"PYTHONPATH": str(tree.resolve())}, scratch=[data])


def send(peer: Peer, requests: list[Request], count: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=600)
    for i in range(count):
        request = requests[i % len(requests)]
        connection.request(request.method, request.path, request.body.encode(),
                           {"Host": f"127.0.0.1:{peer.port}", **request.headers})
        response = connection.getresponse()
        body = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{request.path} answered {response.status}: {body[:200]!r}")


def dump(pid: int) -> None:
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True, timeout=600)


def last_total(out_dir: Path, name: str) -> int:
    dumps = sorted(out_dir.glob(f"{name}.*.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    match = re.search(r"^(?:summary|totals): (\d+)", dumps[-1].read_text(errors="replace"), re.M)
    if match is None:
        raise RuntimeError(f"no totals in {dumps[-1]}")
    return int(match.group(1))


def settle(pid: int, quiet_seconds: float = 3.0, bound: float = 120.0) -> None:
    """Wait until the server is idle (deliveries, timers done): its CPU stops growing for a while."""
    deadline = time.monotonic() + bound
    last, quiet_since = tree_cpu(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = tree_cpu(pid)
        if now - last > 0.15:  # busy at 0.3 of a core or more (valgrind slows idle loops too)
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            return


def measure(tree: Path, name: str, scenario_names: list[str], requests: int, warm_up: int,
            out_dir: Path) -> dict[str, float]:
    """Instructions per request of each scenario (run one after the other on one server)."""
    peer = callgrind_peer(tree, name, out_dir)
    costs: dict[str, float] = {}
    try:
        peer.start(ready_service="health", timeout=START_UP_TIMEOUT)
        assert peer.pid is not None  # valgrind runs the server in its own process
        for scenario_name in scenario_names:
            scenario = SCENARIOS[scenario_name]
            if scenario.requests is None:
                print(f"# {scenario_name}: a raw-client scenario; skipped (wrk-style requests only)")
                continue
            prepared = scenario.requests(scenario.setup(peer))
            send(peer, prepared, warm_up)
            settle(peer.pid)
            dump(peer.pid)
            window_started = time.monotonic()
            send(peer, prepared, requests)
            settle(peer.pid)  # the work a request caused after its answer (deliveries) counts too
            dump(peer.pid)
            window = time.monotonic() - window_started
            costs[scenario_name] = last_total(out_dir, name) / requests
            # the window's length matters: time-driven work (timers, flush loops) is charged to its
            # requests in proportion to it (bench/idle_instructions.py measures that work's rate)
            print(f"# {name} {scenario_name}: {costs[scenario_name]:,.0f} instructions/request "
                  f"({window:.1f} s window, {window / requests * 1000:.1f} ms per request under valgrind)", flush=True)
        return costs
    finally:
        peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", help="comma-separated: " + ", ".join(SCENARIOS))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=100)
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the tree measured as 'after' (default: this one)")
    parser.add_argument("--keep", type=Path, default=None, help="copy callgrind's dumps here (callgrind_annotate)")
    opts = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    names = [n.strip() for n in opts.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
    trees = [("after", opts.tree)] + ([("before", opts.baseline)] if opts.baseline else [])
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp, ThreadPoolExecutor(len(trees)) as pool:
        costs = dict(zip([t[0] for t in trees], pool.map(
            lambda tree: measure(tree[1], tree[0], names, opts.requests, opts.warm_up, Path(tmp)), trees),
            strict=True))
        if opts.keep is not None:
            shutil.copytree(tmp, opts.keep, dirs_exist_ok=True)
    print(f"| scenario | instructions/request (callgrind, {opts.requests} requests after {opts.warm_up}) |"
          + (" before | after / before |" if "before" in costs else ""))
    print("| --- | ---: |" + (" ---: | ---: |" if "before" in costs else ""))
    for name in names:
        after = costs["after"].get(name)
        if after is None:
            continue
        line = f"| {name} | {after:,.0f} |"
        before = costs.get("before", {}).get(name)
        if before:
            line += f" {before:,.0f} | {after / before:.3f} |"
        print(line)


if __name__ == "__main__":
    main()

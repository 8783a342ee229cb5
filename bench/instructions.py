"""Instructions per request, counted by valgrind's callgrind: a measure of a request's cost that
does not move with the machine's load (the CPU-time columns of the other benchmarks do, on a
machine shared with other work).

    python bench/instructions.py SCENARIO [--requests 300] [--warm-up 100] [--baseline DIR] [--keep DIR]

Each server (this tree, and the `--baseline` tree if given, side by side) runs under
`valgrind --tool=callgrind` (start-up takes minutes there). After a warm-up, callgrind's counters
are dumped (which zeroes them), the scenario's requests are sent one at a time, and the second
dump's total over the request count is the cost of one request: every thread of the server (event
loop, SQLite writer, readers) counted, start-up and idle time not.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from load import Request
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


def measure(tree: Path, name: str, scenario_name: str, requests: int, warm_up: int, out_dir: Path) -> float:
    scenario = SCENARIOS[scenario_name]
    if scenario.requests is None:
        raise SystemExit(f"{scenario_name} is a raw-client scenario; instructions.py sends wrk-style requests only")
    peer = callgrind_peer(tree, name, out_dir)
    try:
        peer.start(ready_service="health", timeout=START_UP_TIMEOUT)
        prepared = scenario.requests(scenario.setup(peer))
        send(peer, prepared, warm_up)
        assert peer.pid is not None  # valgrind runs the server in its own process
        pid = peer.pid
        dump(pid)
        send(peer, prepared, requests)
        dump(pid)
        return last_total(out_dir, name) / requests
    finally:
        peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=100)
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="copy callgrind's dumps here (callgrind_annotate)")
    opts = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    trees = [("after", ROOT)] + ([("before", opts.baseline)] if opts.baseline else [])
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp, ThreadPoolExecutor(len(trees)) as pool:
        costs = dict(zip([t[0] for t in trees], pool.map(
            lambda tree: measure(tree[1], tree[0], opts.scenario, opts.requests, opts.warm_up, Path(tmp)), trees),
            strict=True))
        if opts.keep is not None:
            shutil.copytree(tmp, opts.keep, dirs_exist_ok=True)
    print(f"| {opts.scenario} | instructions/request (callgrind, {opts.requests} requests after {opts.warm_up}) |")
    print("| --- | ---: |")
    for name, cost in costs.items():
        print(f"| {name} | {cost:,.0f} |")
    if "before" in costs:
        print(f"| after / before | {costs['after'] / costs['before']:.3f} |")


if __name__ == "__main__":
    main()

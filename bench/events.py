"""EventBridge PutEvents (batches of 10) to SQS with 10 to 10,000 rules: accepted events/s, and the
deliveries that follow (delivered/s and delivery lag), for Eventyard, moto's server and MiniStack
in one run, on 127.0.0.1.

    python bench/events.py [--seconds 8] [--rules 10,1000,10000] [--peer-rules 10,1000]
                           [--peers eventyard,moto,ministack] [--processes 2] [--concurrency 8] [--baseline DIR]

Rule i matches `detail.k == i` and targets one queue, so every event matches exactly one rule and
costs one SQS delivery. Load: raw HTTP from several processes (each event carries the time it was
sent, which the delivery's SentTimestamp is compared with). The peers get the `--peer-rules`
counts only (MiniStack checks rules one by one; moto delivered nothing at 1,000 rules).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from fanout import collect, stamp_in_json
from load import Measurement, Report, guarded
from peers import Peer, each, select
from rawhttp import Connection, JsonClient, Tally, measure
from scenarios import rules_to_queue


async def put_events(connection: Connection, deadline: float, tally: Tally, args: tuple[str, int]) -> None:
    tag, rules = args
    events = JsonClient(connection, "events", "1.1")
    pick = random.Random(id(connection)).randrange
    while time.monotonic() < deadline:
        started = time.perf_counter()
        sent = time.time()
        answer = await events.call("AWSEvents.PutEvents", {"Entries": [
            {"Source": f"bench.{tag}", "DetailType": "bench",
             "Detail": json.dumps({"k": pick(rules), "sent": sent, "pad": "x" * 64})} for _ in range(10)]})
        tally.record(10 - answer.get("FailedEntryCount", 0), started)


def bench_rules(peer: Peer, rules: int, report: Report, opts: argparse.Namespace) -> None:
    tag = f"r{rules}"
    queue_url = rules_to_queue(peer, rules, tag)
    scenario = f"PutEvents 10/call, {rules:,} rules -> SQS"
    started = time.time()
    row, tally = measure(f"{scenario}: accepted", peer.name, peer.pid, peer.url, put_events, opts.processes,
                         opts.concurrency, opts.seconds, "events/s", args=(tag, rules))
    report.add(row)
    window_cpu = peer.cpu_seconds()
    window_start = time.monotonic()
    deliveries = collect(peer.url, [queue_url], tally.items, started, stamp_in_json("sent", "detail"),
                         bound=opts.bound)
    print(f"# {peer.name} {scenario}: {deliveries.describe()}", flush=True)
    report.add(Measurement(f"{scenario}: delivered (p50/p99 = delivery lag)", peer.name, deliveries.per_second,
                           "events/s", deliveries.lag_p50_ms, deliveries.lag_p99_ms,
                           (peer.cpu_seconds() - window_cpu) / max(time.monotonic() - window_start, 1e-3),
                           note=f"{deliveries.delivered:,} of {deliveries.expected:,} delivered"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rules", default="10,1000,10000")
    parser.add_argument("--peer-rules", default="10,1000")
    parser.add_argument("--peers", default="eventyard,moto,ministack")
    parser.add_argument("--baseline", default=None, help="also run Eventyard from this tree (A/B in one run)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bound", type=float, default=60.0, help="seconds to wait for deliveries after the load")
    opts = parser.parse_args()
    report = Report("EventBridge -> SQS", "python bench/events.py " + " ".join(sys.argv[1:]))
    def run(peer: Peer) -> None:
        counts = opts.rules if peer.name.startswith("eventyard") else opts.peer_rules
        for rules in (int(n) for n in counts.split(",") if n):
            guarded(report, peer.name, f"PutEvents {rules:,} rules", lambda: bench_rules(peer, rules, report, opts))

    each(select(opts.peers, opts.baseline), run)
    report.print()


if __name__ == "__main__":
    main()

"""PutEvents throughput (batches of 10) with 10, 100 and 1,000 rules on the default bus routing to
SQS: Eventyard vs moto's server vs MiniStack, in one run, on 127.0.0.1.

    python3 bench/events.py [--seconds 5] [--procs 3] [--rules 10,100,1000] [--peers eventyard,moto,ministack]

Each rule matches one value of `detail.k`; every event matches exactly one rule, so each accepted
event also costs one SQS delivery. Load comes from several client processes (one boto3 process
tops out near 450 calls/s). Prints events/s, server and client CPU seconds, and the ratio to Eventyard.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402


def setup(peer: Any, rules: int, tag: str) -> None:
    events, sqs = peer.client("events"), peer.client("sqs")
    url = sqs.create_queue(QueueName=f"bench-{tag}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for i in range(rules):
        name = f"r-{tag}-{i}"
        events.put_rule(Name=name, EventPattern=json.dumps({"source": [f"bench.{tag}"], "detail": {"k": [i]}}))
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])


def worker(url: str, rules: int, tag: str, seconds: float, out: Any) -> None:
    peer = peers.Peer("client", [], 0)
    peer.port = int(url.rsplit(":", 1)[1])
    events = peer.client("events")
    sent = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        entries = [{"Source": f"bench.{tag}", "DetailType": "b", "Detail": json.dumps({"k": random.randrange(rules)})}
                   for _ in range(10)]
        answer = events.put_events(Entries=entries)
        sent += 10 - answer["FailedEntryCount"]
    times = os.times()
    out.put((sent, time.monotonic() - start, times.user + times.system))


def measure(peer: Any, rules: int, seconds: float, procs: int) -> tuple[float, float, float]:
    tag = f"{rules}-{random.randrange(10**6)}"
    setup(peer, rules, tag)
    queue: Any = mp.Queue()
    cpu0 = peer.cpu_seconds()
    workers = [mp.Process(target=worker, args=(peer.url, rules, tag, seconds, queue)) for _ in range(procs)]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    server_cpu = peer.cpu_seconds() - cpu0
    total = sum(r[0] for r in results)
    elapsed = max(r[1] for r in results)
    return total / elapsed, server_cpu, sum(r[2] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--procs", type=int, default=3)
    parser.add_argument("--rules", default="10,100,1000")
    parser.add_argument("--peers", default="eventyard,moto,ministack")
    args = parser.parse_args()
    counts = [int(n) for n in args.rules.split(",")]
    table: dict[str, dict[int, tuple[float, float, float]]] = {}
    for name in args.peers.split(","):
        peer = getattr(peers, name)().start()
        try:
            table[name] = {n: measure(peer, n, args.seconds, args.procs) for n in counts}
        finally:
            peer.stop()
    base = table.get("eventyard", {})
    print(f"PutEvents, batches of 10, {args.procs} client processes x {args.seconds:g}s, every event routed to SQS")
    print(f"{'server':<10} {'rules':>6} {'events/s':>10} {'server CPU s':>13} {'client CPU s':>13} {'eventyard x':>12}")
    for name, rows in table.items():
        for n, (rate, server_cpu, client_cpu) in rows.items():
            ratio = base[n][0] / rate if name != "eventyard" and n in base and rate else 1.0
            print(f"{name:<10} {n:>6} {rate:>10.0f} {server_cpu:>13.1f} {client_cpu:>13.1f} {ratio:>12.2f}")


if __name__ == "__main__":
    main()

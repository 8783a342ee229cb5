"""SNS Publish to a topic with 3 SQS subscriptions (raw delivery): publishes/s accepted and the
deliveries that follow (delivered/s, delivery lag), for Eventyard, moto's server and MiniStack in
one run.

    python bench/sns.py [--seconds 8] [--peers eventyard,moto,ministack] [--processes 2]
                        [--concurrency 8] [--baseline DIR]

Load: raw HTTP (query protocol, SigV4-shaped) from several processes; each message carries the
time it was sent, which each delivery's SentTimestamp is compared with. Eventyard commits every
publish and its deliveries' outbox rows (SQLite WAL) before acknowledging; the peers keep state in
memory and deliver inline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from urllib.parse import urlencode

from fanout import collect, stamp_in_json
from load import Measurement, Report, signed_headers
from peers import Peer, each, select
from rawhttp import Connection, HttpError, Tally, measure
from scenarios import topic_with_queues

SUBSCRIPTIONS = 3
HEADERS = signed_headers("sns", "application/x-www-form-urlencoded; charset=utf-8")


async def publish(connection: Connection, deadline: float, tally: Tally, topic_arn: str) -> None:
    while time.monotonic() < deadline:
        started = time.perf_counter()
        body = urlencode({"Action": "Publish", "Version": "2010-03-31", "TopicArn": topic_arn,
                          "Message": json.dumps({"sent": time.time(), "pad": "x" * 100})}).encode()
        status, answer = await connection.request("POST", "/", HEADERS, body)
        if status != 200:
            raise HttpError(status, answer)
        tally.record(1, started)


def bench_peer(peer: Peer, report: Report, opts: argparse.Namespace) -> None:
    topic_arn, queue_urls = topic_with_queues(peer, SUBSCRIPTIONS, "fan")
    scenario = f"Publish to {SUBSCRIPTIONS} SQS subscriptions"
    started = time.time()
    row, tally = measure(f"{scenario}: accepted", peer.name, peer.pid, peer.url, publish, opts.processes,
                         opts.concurrency, opts.seconds, "msg/s", args=topic_arn)
    report.add(row)
    cpu, began = peer.cpu_seconds(), time.monotonic()
    deliveries = collect(peer.url, queue_urls, tally.items * SUBSCRIPTIONS, started, stamp_in_json("sent"),
                         bound=opts.bound)
    print(f"# {peer.name} {scenario}: {deliveries.describe()}", flush=True)
    report.add(Measurement(f"{scenario}: delivered (p50/p99 = delivery lag)", peer.name, deliveries.per_second,
                           "deliveries/s", deliveries.lag_p50_ms, deliveries.lag_p99_ms,
                           (peer.cpu_seconds() - cpu) / max(time.monotonic() - began, 1e-3),
                           note=f"{deliveries.delivered:,} of {deliveries.expected:,} delivered"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--peers", default="eventyard,moto,ministack")
    parser.add_argument("--baseline", default=None, help="also run Eventyard from this tree (A/B in one run)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bound", type=float, default=60.0, help="seconds to wait for deliveries after the load")
    opts = parser.parse_args()
    report = Report("SNS -> SQS", "python bench/sns.py " + " ".join(sys.argv[1:]))
    each(select(opts.peers, opts.baseline), lambda peer: bench_peer(peer, report, opts))
    report.print()


if __name__ == "__main__":
    main()

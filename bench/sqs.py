"""SQS measured with load that is not the bottleneck: Eventyard, moto's server and MiniStack in one run.

- SendMessageBatch (10 x 200 B) and SendMessage: wrk with a Lua script (1 and 16 connections);
- receive + delete: raw HTTP from several processes (`rawhttp.py`), each coroutine receiving up to
  10 messages and deleting what it got in one DeleteMessageBatch, from a queue filled beforehand.

Eventyard commits every acknowledged write to SQLite (WAL) before answering; the peers keep state
in memory. The table has server and client CPU (cores busy) so a client-bound row shows as such.

    python bench/sqs.py [--seconds 8] [--peers eventyard,moto,ministack] [--baseline DIR]
                        [--processes 2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import sys

from load import Measurement, Report, guarded, measure_wrk
from peers import Peer, each, select
from rawhttp import measure
from scenarios import fill, receive_and_delete, send_batch_requests, send_requests


def bench_peer(peer: Peer, report: Report, opts: argparse.Namespace) -> None:
    sqs = peer.client("sqs")
    name, pid = peer.name, peer.pid
    batch_url = sqs.create_queue(QueueName="bench-batch")["QueueUrl"]
    one_url = sqs.create_queue(QueueName="bench-one")["QueueUrl"]
    recv_url = sqs.create_queue(QueueName="bench-recv")["QueueUrl"]
    measure_wrk("warm-up", name, pid, peer.url, send_batch_requests(batch_url), 4, 1, 10)
    for connections in (1, 16):
        scenario = f"SendMessageBatch 10x200 B, {connections} conn (wrk)"
        guarded(report, name, scenario, lambda: measure_wrk(
            scenario, name, pid, peer.url, send_batch_requests(batch_url), connections, opts.seconds, 10, "msg/s"))
    scenario = "SendMessage 200 B, 1 conn (wrk)"
    guarded(report, name, scenario, lambda: measure_wrk(
        scenario, name, pid, peer.url, send_requests(one_url), 1, opts.seconds, 1, "msg/s"))
    sent = [r.rate for r in report.rows if r.server == name and r.scenario.startswith("SendMessageBatch")]
    # enough to keep the consumers busy for the whole phase (at most 40 s of the send rate measured)
    fill(peer.url, recv_url, int(min(max(sent or [0]) * opts.seconds * 1.5, 400_000)) // 800 * 800 or 800)
    scenario = f"receive+delete batches, {opts.processes}x{opts.concurrency} conns (raw)"

    def consume() -> Measurement:
        row, _ = measure(scenario, name, pid, peer.url, receive_and_delete, opts.processes, opts.concurrency,
                         opts.seconds, "msg/s", args=recv_url)
        return row

    guarded(report, name, scenario, consume)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--peers", default="eventyard,moto,ministack")
    parser.add_argument("--baseline", default=None, help="also run Eventyard from this tree (A/B in one run)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    opts = parser.parse_args()
    report = Report("SQS", "python bench/sqs.py " + " ".join(sys.argv[1:]))
    each(select(opts.peers, opts.baseline), lambda peer: bench_peer(peer, report, opts))
    report.print()


if __name__ == "__main__":
    main()

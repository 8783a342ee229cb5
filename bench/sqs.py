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
import asyncio
import sys
import time
from typing import Any

from load import Measurement, Report, guarded, json_call, measure_wrk
from peers import Peer, select
from rawhttp import Connection, JsonClient, Tally, measure, run_async

BODY = "x" * 200
SQS = "AmazonSQS."


def send_batch_requests(queue_url: str, variants: int = 16) -> list[Any]:
    return [json_call("sqs", SQS + "SendMessageBatch", {"QueueUrl": queue_url, "Entries": [
        {"Id": str(i), "MessageBody": f"{v:04d}{BODY[4:]}"} for i in range(10)]}) for v in range(variants)]


def send_requests(queue_url: str) -> list[Any]:
    return [json_call("sqs", SQS + "SendMessage", {"QueueUrl": queue_url, "MessageBody": BODY})]


async def receive_and_delete(connection: Connection, deadline: float, tally: Tally, queue_url: str) -> None:
    sqs = JsonClient(connection, "sqs")
    empty = 0
    while time.monotonic() < deadline and empty < 3:
        started = time.perf_counter()
        got = (await sqs.call(SQS + "ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 10}))
        messages = got.get("Messages", [])
        if not messages:
            empty += 1  # drained (a peer slower than the fill)
            continue
        await sqs.call(SQS + "DeleteMessageBatch", {"QueueUrl": queue_url, "Entries": [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]})
        tally.record(len(messages), started)


def fill(url: str, queue_url: str, messages: int) -> None:
    """Put `messages` into the queue with raw batches from this process (before the measured phase)."""
    async def work() -> None:
        async def one(count: int) -> None:
            sqs = JsonClient(await Connection(*_host_port(url)).open(), "sqs")
            for _ in range(count):
                await sqs.call(SQS + "SendMessageBatch", {"QueueUrl": queue_url, "Entries": [
                    {"Id": str(i), "MessageBody": BODY} for i in range(10)]})
            sqs.connection.close()

        await asyncio.gather(*(one(messages // 10 // 8) for _ in range(8)))

    run_async(work)


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


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
    for peer in select(opts.peers, opts.baseline):
        try:
            peer.start()
            bench_peer(peer, report, opts)
        except Exception as error:  # a peer that breaks is reported, not fatal to the others
            print(f"# {peer.name} failed: {error}")
        finally:
            peer.stop()
    report.print()


if __name__ == "__main__":
    main()

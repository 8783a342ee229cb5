"""What the per-hop trace records cost on SQS's hottest path, SendMessage.

Three kinds of runs, alternated round after round, medians compared:
- untraced sends on this tree (a request without X-Amzn-Trace-Id writes no hop);
- traced sends on this tree (each send also writes its hop in the send's transaction);
- untraced sends on a baseline commit (`--baseline`, e.g. the commit before tracing), exported with
  `git archive` into a temporary directory: the before/after comparison.
The load is raw HTTP from several processes (keep-alive connections, SigV4-shaped headers, JSON 1.0
bodies), so the clients are not the bottleneck; the server's CPU per message is read from /proc.

    python bench/tracing.py [--seconds 5] [--rounds 3] [--senders 3] [--baseline COMMIT]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from peers import ROOT, Peer, eventyard

BODY = "x" * 256
AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, "
                 "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)
TRACE = "Root=1-5f84c7a1-6c8e1f3a8b2d4e5f6a7b8c9d;Parent=53995c3f42cd8ad8;Sampled=1"


def _sender(port: int, queue_url: str, seconds: float, traced: bool, out: Any) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"QueueUrl": queue_url, "MessageBody": BODY}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage",
               "X-Amz-Date": "20240101T000000Z", "Authorization": AUTHORIZATION}
    if traced:
        headers["X-Amzn-Trace-Id"] = TRACE
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.request("POST", "/", body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"SendMessage answered {response.status}")
        sent += 1
    out.put(sent)


def send_rate(peer: Peer, queue_url: str, seconds: float, senders: int, traced: bool) -> tuple[float, float]:
    """(messages per second, server CPU microseconds per message)."""
    out: Any = mp.Queue()
    cpu = peer.cpu_seconds()
    started = time.monotonic()
    procs = [mp.Process(target=_sender, args=(peer.port, queue_url, seconds, traced, out)) for _ in range(senders)]
    for proc in procs:
        proc.start()
    sent = sum(out.get() for _ in procs)
    for proc in procs:
        proc.join()
    return sent / (time.monotonic() - started), (peer.cpu_seconds() - cpu) / sent * 1e6


def export(commit: str) -> Path:
    """The tree of `commit` in a temporary directory (no change to the repository)."""
    target = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    archive = target / "tree.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), commit], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()
    return target


def compare(seconds: float, rounds: int, senders: int, baseline: str | None) -> list[str]:
    runs: dict[str, tuple[Peer, bool]] = {}
    current = eventyard(name="current")
    runs["this tree, untraced"] = (current, False)
    runs["this tree, traced"] = (current, True)
    tree = export(baseline) if baseline else None
    if tree is not None:
        before = eventyard(tree, name="baseline")
        runs[f"{baseline}, untraced"] = (before, False)
        runs[f"{baseline}, traced"] = (before, True)  # the header costs there too (AWSTraceHeader is stored)
    peers = {id(peer): peer for peer, _ in runs.values()}
    try:
        for peer in peers.values():
            peer.start()
        urls = {key: peer.client("sqs").create_queue(QueueName="bench")["QueueUrl"] for key, peer in peers.items()}
        for peer, traced in runs.values():  # warm every server up
            send_rate(peer, urls[id(peer)], 1.0, senders, traced)
        rates: dict[str, list[float]] = {name: [] for name in runs}
        cpus: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(rounds):
            for name, (peer, traced) in runs.items():
                rate, cpu = send_rate(peer, urls[id(peer)], seconds, senders, traced)
                rates[name].append(rate)
                cpus[name].append(cpu)
        rows = ["| run | SendMessage throughput | server CPU per message |", "| --- | --- | --- |"]
        medians = {name: (statistics.median(rates[name]), statistics.median(cpus[name])) for name in runs}
        for name, (rate, cpu) in medians.items():
            rows.append(f"| {name} | {rate:,.0f} msg/s | {cpu:,.0f} µs |")
        base_rate, base_cpu = medians["this tree, untraced"]
        rate, cpu = medians["this tree, traced"]
        rows.append(f"| cost of a traced send's hop | {100 * (base_rate - rate) / base_rate:+.1f} % throughput |"
                    f" {100 * (cpu - base_cpu) / base_cpu:+.1f} % CPU |")
        if tree is not None:
            old_rate, old_cpu = medians[f"{baseline}, untraced"]
            old_traced_rate, old_traced_cpu = medians[f"{baseline}, traced"]
            rows.append(f"| untraced, this tree vs {baseline} | {100 * (old_rate - base_rate) / old_rate:+.1f} % "
                        f"throughput | {100 * (base_cpu - old_cpu) / old_cpu:+.1f} % CPU |")
            rows.append(f"| traced, this tree vs {baseline} (the hop itself) | "
                        f"{100 * (old_traced_rate - rate) / old_traced_rate:+.1f} % throughput | "
                        f"{100 * (cpu - old_traced_cpu) / old_traced_cpu:+.1f} % CPU |")
        return rows
    finally:
        for peer in peers.values():
            peer.stop()
        if tree is not None:
            shutil.rmtree(tree, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--senders", type=int, default=3)
    parser.add_argument("--baseline", default=None, help="a commit to compare untraced sends with")
    args = parser.parse_args()
    print("\n".join(compare(args.seconds, args.rounds, args.senders, args.baseline)))


if __name__ == "__main__":
    main()

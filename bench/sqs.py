"""SQS through boto3: Eventyard against moto's server and MiniStack, side by side in one run.

Load comes from several client processes, because one boto3 process tops out near 450 calls/s.
Eventyard commits every acknowledged write to SQLite (WAL; `EVENTYARD_SQLITE_SYNCHRONOUS=full`
adds an fsync per group commit) before answering; the peers keep state in memory.

    python bench/sqs.py [--seconds 5] [--senders 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from typing import Any

from peers import Peer, available, eventyard, ministack, moto

BODY = "x" * 256


def _send_worker(url: str, queue_url: str, seconds: float, out: Any) -> None:
    sqs = _client(url)
    sent, start, cpu = 0, time.monotonic(), time.process_time()
    while time.monotonic() - start < seconds:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": BODY} for i in range(10)])
        sent += 10
    out.put((sent, time.process_time() - cpu))


def _receive_worker(url: str, queue_url: str, seconds: float, out: Any) -> None:
    sqs = _client(url)
    got, start, cpu = 0, time.monotonic(), time.process_time()
    while time.monotonic() - start < seconds:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        got += len(messages)
    out.put((got, time.process_time() - cpu))


def _client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("sqs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 2}))


def _run(worker: Any, processes: int, url: str, queue_url: str, seconds: float, peer: Peer) -> tuple[float, float, float]:
    out: Any = mp.Queue()
    server_cpu = peer.cpu_seconds()
    started = time.monotonic()
    procs = [mp.Process(target=worker, args=(url, queue_url, seconds, out)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    count = sum(r[0] for r in results)
    return count / elapsed, sum(r[1] for r in results) / elapsed, (peer.cpu_seconds() - server_cpu) / elapsed


def measure(peer: Peer, seconds: float, senders: int) -> dict[str, tuple[float, float, float]]:
    sqs = peer.client("sqs")
    rows: dict[str, tuple[float, float, float]] = {}
    send_url = sqs.create_queue(QueueName="bench-send")["QueueUrl"]
    rows[f"send_message_batch msgs/s ({senders} procs)"] = _run(_send_worker, senders, peer.url, send_url, seconds, peer)
    for consumers in (1, 4):
        url = sqs.create_queue(QueueName=f"bench-recv-{consumers}")["QueueUrl"]
        _run(_send_worker, senders, peer.url, url, seconds * 1.5, peer)  # fill it
        rows[f"receive+delete_batch msgs/s ({consumers} procs)"] = _run(
            _receive_worker, consumers, peer.url, url, seconds, peer)
    lat_url = sqs.create_queue(QueueName="bench-latency")["QueueUrl"]
    latencies = []
    for _ in range(300):
        start = time.perf_counter()
        sqs.send_message(QueueUrl=lat_url, MessageBody=BODY)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    rows["send_message p50 ms"] = (statistics.median(latencies), 0.0, 0.0)
    rows["send_message p99 ms"] = (latencies[int(len(latencies) * 0.99) - 1], 0.0, 0.0)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    for peer in available([eventyard, moto, ministack]):
        try:
            peer.start()
            results[peer.name] = measure(peer, args.seconds, args.senders)
        except Exception as error:  # a peer that breaks is reported, not fatal to the others
            print(f"# {peer.name} failed: {error}")
        finally:
            peer.stop()
    names = list(results)
    rows = list(next(iter(results.values())))
    header = f"{'scenario':44}" + "".join(f"{n:>13}" for n in names)
    header += "".join(f"{'ey/' + n:>14}" for n in names if n != "eventyard")
    print(header)
    for row in rows:
        values = [results[n][row][0] for n in names]
        line = f"{row:44}" + "".join(f"{v:13.1f}" for v in values)
        for n in names:
            if n == "eventyard":
                continue
            ours, theirs = results["eventyard"][row][0], results[n][row][0]
            ratio = (theirs / ours if row.endswith(" ms") else ours / theirs) if ours and theirs else float("nan")
            line += f"{ratio:13.2f}x"
        print(line)
    print("\nCPU (cores busy during the scenario: clients / server)")
    for row in rows:
        if row.endswith(" ms"):
            continue
        print(f"{row:44}" + "".join(f"{results[n][row][1]:6.2f}/{results[n][row][2]:<6.2f}" for n in names))
    print("\nratios > 1 mean Eventyard is better (higher throughput, lower latency)")


if __name__ == "__main__":
    main()

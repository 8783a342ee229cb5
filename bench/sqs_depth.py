"""SQS with deep queues: does one big queue slow everyone else down, and does FIFO receive slow with depth?

Rows:
- SendMessage latency on a small queue, idle, then while another process polls GetQueueAttributes(All)
  on a 200,000-message queue as fast as it can (the unrelated send's p50 should stay within 2x);
- GetQueueAttributes(All) latency on that queue;
- FIFO ReceiveMessage latency (10 messages, then deleted, untimed) at 1k/50k/200k messages in 1,000
  message groups.

The load generator is not the bottleneck: requests are signed once and sent as prepared bytes over
kept-alive connections (a few microseconds of client work each), and the poller runs in its own process.

    python bench/sqs_depth.py [--depths 1000,50000,200000] [--samples 400]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import statistics
import time
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from peers import Peer, eventyard

GROUPS = 1000
FILL_PROCESSES = 2


class Wire:
    """SQS JSON calls over one kept-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def prepare(self, operation: str, params: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(params).encode()
        request = AWSRequest(method="POST", url=f"http://127.0.0.1:{self.port}/", data=body, headers={
            "X-Amz-Target": f"AmazonSQS.{operation}", "Content-Type": "application/x-amz-json-1.0"})
        SigV4Auth(Credentials("bench", "bench"), "sqs", "us-east-1").add_auth(request)
        return body, dict(request.headers.items())

    def send(self, prepared: tuple[bytes, dict[str, str]]) -> dict[str, Any]:
        body, headers = prepared
        try:
            self.connection.request("POST", "/", body, headers)
            response = self.connection.getresponse()
        except (ConnectionError, http.client.HTTPException):  # the server closed an idle kept-alive connection
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.connection.request("POST", "/", body, headers)
            response = self.connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {answer[:300]!r}")
        return json.loads(answer or b"{}")  # type: ignore[no-any-return]

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.send(self.prepare(operation, params))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _fill_worker(port: int, url: str, count: int, fifo: bool, offset: int) -> None:
    wire = Wire(port)
    for start in range(0, count, 10):
        entries = [{"Id": str(i), "MessageBody": "x" * 128} for i in range(min(10, count - start))]
        if fifo:
            for i, entry in enumerate(entries):
                n = offset + start + i
                entry.update({"MessageGroupId": f"g{n % GROUPS}", "MessageDeduplicationId": str(n)})
        wire.call("SendMessageBatch", {"QueueUrl": url, "Entries": entries})


def fill(port: int, url: str, count: int, fifo: bool = False) -> None:
    """Send `count` messages from a few processes (FIFO: round-robin over the groups)."""
    share = count // FILL_PROCESSES
    procs = [mp.Process(target=_fill_worker, args=(port, url, share, fifo, i * share)) for i in range(FILL_PROCESSES)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()


def _poll_worker(port: int, url: str, stop: Any, polls: Any) -> None:
    wire = Wire(port)
    prepared = wire.prepare("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})
    count = 0
    while not stop.is_set():
        wire.send(prepared)
        count += 1
    polls.value = count


def send_latencies(wire: Wire, url: str, samples: int) -> list[float]:
    prepared = wire.prepare("SendMessage", {"QueueUrl": url, "MessageBody": "ping"})
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        wire.send(prepared)
        out.append((time.perf_counter() - started) * 1000)
    return out


def head_of_line(peer: Peer, samples: int, depth: int) -> list[tuple[str, str]]:
    wire = Wire(peer.port)
    deep = wire.call("CreateQueue", {"QueueName": "deep"})["QueueUrl"]
    small = wire.call("CreateQueue", {"QueueName": "small"})["QueueUrl"]
    started = time.monotonic()
    fill(peer.port, deep, depth)
    print(f"# filled {depth} messages in {time.monotonic() - started:.1f}s")
    send_latencies(wire, small, 50)  # warm up
    idle = send_latencies(wire, small, samples)
    stop, polls = mp.Event(), mp.Value("q", 0)
    poller = mp.Process(target=_poll_worker, args=(peer.port, deep, stop, polls))
    poller.start()
    time.sleep(0.5)
    poll_started = time.monotonic()
    loaded = send_latencies(wire, small, samples)
    stop.set()
    poller.join()
    poll_rate = polls.value / (time.monotonic() - poll_started + 0.5)
    attributes = [_timed(lambda: wire.call("GetQueueAttributes", {"QueueUrl": deep, "AttributeNames": ["All"]}))
                  for _ in range(100)]
    visible = wire.call("GetQueueAttributes", {"QueueUrl": deep, "AttributeNames": ["All"]})["Attributes"][
        "ApproximateNumberOfMessages"]
    return [
        ("SendMessage p50 / p99, idle (ms)", f"{statistics.median(idle):.2f} / {_percentile(idle, 0.99):.2f}"),
        (f"SendMessage p50 / p99, another {depth:,}-message queue polled (ms)",
         f"{statistics.median(loaded):.2f} / {_percentile(loaded, 0.99):.2f}"),
        ("  ratio of p50s (target <= 2x)", f"{statistics.median(loaded) / statistics.median(idle):.2f}x"),
        ("  GetQueueAttributes(All) polls/s meanwhile", f"{poll_rate:.0f}"),
        (f"GetQueueAttributes(All) p50 on {int(visible):,} messages (ms)", f"{statistics.median(attributes):.2f}"),
    ]


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def fifo_receive(peer: Peer, depths: list[int], samples: int) -> list[tuple[str, str]]:
    wire = Wire(peer.port)
    rows = []
    for depth in depths:
        url = wire.call("CreateQueue", {"QueueName": f"fifo-{depth}.fifo", "Attributes": {"FifoQueue": "true"}})[
            "QueueUrl"]
        started = time.monotonic()
        fill(peer.port, url, depth, fifo=True)
        print(f"# filled {depth} FIFO messages in {time.monotonic() - started:.1f}s")
        receive = wire.prepare("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10})
        latencies = []
        for _ in range(samples):
            started_at = time.perf_counter()
            messages = wire.send(receive).get("Messages", [])
            latencies.append((time.perf_counter() - started_at) * 1000)
            if messages:
                wire.call("DeleteMessageBatch", {"QueueUrl": url, "Entries": [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]})
        rows.append((f"FIFO ReceiveMessage(10) p50 / p99 at {depth:,} messages, {GROUPS} groups (ms)",
                     f"{statistics.median(latencies):.2f} / {_percentile(latencies, 0.99):.2f}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depths", default="1000,50000,200000")
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    peer = eventyard().start()
    try:
        rows = head_of_line(peer, args.samples, max(depths))
        rows += fifo_receive(peer, depths, args.samples)
    finally:
        peer.stop()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()

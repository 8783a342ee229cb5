"""SQS with deep queues: does one big queue slow everyone else down, and does FIFO receive slow with depth?

Rows:
- SendMessage latency on a small queue, idle and while another process polls GetQueueAttributes(All)
  on a 200,000-message queue as fast as it can, in alternating rounds (the unrelated send's p50 should
  stay within 2x): once
  with prepared requests (the server's own time, the harshest ratio), once with boto3 clients on both
  sides (as SDK users see it);
- GetQueueAttributes(All) latency on that queue;
- FIFO ReceiveMessage latency (10 messages, then deleted, untimed) at 1k/50k/200k messages in 1,000
  message groups.

The load generator is not the bottleneck: requests are signed once and sent as prepared bytes over
kept-alive connections (a few microseconds of client work each), and the poller runs in its own process.

    python bench/sqs_depth.py [--depths 1000,50000,200000] [--samples 400] [--rounds 8] [--no-fifo]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import statistics
import time
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
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


def _spin() -> None:
    sum(range(2000))  # about as long as a prepared request's round trip, and no request at all


def _poll_worker(port: int, url: str, stop: Any, polling: Any, polls: Any, how: str) -> None:
    """GetQueueAttributes(All) as fast as one client can while `polling` is set: prepared bytes, or boto3
    (as the issue measured); or, as a control, a process as busy that sends nothing ("spin"). Paused
    rounds leave the server idle without restarting the process."""
    if how == "spin":
        poll: Any = _spin
    elif how == "boto3":
        client = _boto3(port)
        poll = lambda: client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])  # noqa: E731
    else:
        wire = Wire(port)
        prepared = wire.prepare("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})
        poll = lambda: wire.send(prepared)  # noqa: E731
    while not stop.is_set():
        if not polling.wait(0.05):
            continue
        poll()
        with polls.get_lock():
            polls.value += 1


def _boto3(port: int) -> Any:
    return boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="bench", aws_secret_access_key="bench", config=Config(retries={"max_attempts": 1}))


def send_latencies(wire: Wire, url: str, samples: int, sdk: Any = None) -> list[float]:
    prepared = wire.prepare("SendMessage", {"QueueUrl": url, "MessageBody": "ping"})
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        if sdk is not None:
            sdk.send_message(QueueUrl=url, MessageBody="ping")
        else:
            wire.send(prepared)
        out.append((time.perf_counter() - started) * 1000)
    return out


def polled_sends(peer: Peer, wire: Wire, small: str, deep: str, samples: int, sdk: bool,
                 rounds: int, poller_kind: str | None = None) -> list[tuple[str, str]]:
    """The unrelated queue's SendMessage latency idle and while one client polls the deep queue, in
    alternating rounds: the machine's load drifts (other work on a shared machine), and measuring all
    idle samples first and all polled ones after would fold that drift into the ratio."""
    sender = _boto3(peer.port) if sdk else None
    send_latencies(wire, small, 50, sender)  # warm up
    stop, polling, polls = mp.Event(), mp.Event(), mp.Value("q", 0)
    kind = poller_kind or ("boto3" if sdk else "prepared")
    poller = mp.Process(target=_poll_worker, args=(peer.port, deep, stop, polling, polls, kind))
    poller.start()
    idle: list[float] = []
    loaded: list[float] = []
    ratios = []
    polled_seconds = 0.0
    try:
        for _ in range(rounds):
            idle_round = send_latencies(wire, small, samples // rounds, sender)
            polling.set()
            time.sleep(0.3)  # the poller reaches its pace
            started = time.monotonic()
            loaded_round = send_latencies(wire, small, samples // rounds, sender)
            polled_seconds += time.monotonic() - started + 0.3
            polling.clear()
            time.sleep(0.1)  # its last request answered: the next idle round is idle
            idle += idle_round
            loaded += loaded_round
            ratios.append(statistics.median(loaded_round) / statistics.median(idle_round))
    finally:
        stop.set()
        poller.join()
    how = "boto3 clients" if sdk else "prepared requests"
    busy = "a busy process that sends nothing beside it (control)" if kind == "spin" else "deep queue polled"
    return [
        (f"SendMessage p50 / p99, idle, {how} (ms)", f"{statistics.median(idle):.2f} / {_percentile(idle, 0.99):.2f}"),
        (f"SendMessage p50 / p99, {busy}, {how} (ms)",
         f"{statistics.median(loaded):.2f} / {_percentile(loaded, 0.99):.2f}"),
        ("  ratio of p50s (target <= 2x)", f"{statistics.median(loaded) / statistics.median(idle):.2f}x"),
        ("  ratio of p50s in each round", " ".join(f"{r:.2f}x" for r in ratios)),
        ("  GetQueueAttributes(All) polls/s meanwhile" if kind != "spin" else "  busy loops/s meanwhile",
         f"{polls.value / polled_seconds:.0f}"),
    ]


def head_of_line(peer: Peer, samples: int, depth: int, rounds: int) -> list[tuple[str, str]]:
    wire = Wire(peer.port)
    deep = wire.call("CreateQueue", {"QueueName": "deep"})["QueueUrl"]
    small = wire.call("CreateQueue", {"QueueName": "small"})["QueueUrl"]
    started = time.monotonic()
    fill(peer.port, deep, depth)
    print(f"# filled {depth} messages in {time.monotonic() - started:.1f}s")
    rows = polled_sends(peer, wire, small, deep, samples, sdk=False, rounds=rounds)
    rows += polled_sends(peer, wire, small, deep, samples, sdk=True, rounds=rounds)
    # the control: how much of the boto3 row is two cores shared by three busy processes, not the server
    rows += polled_sends(peer, wire, small, deep, samples, sdk=True, rounds=rounds, poller_kind="spin")
    attributes = [_timed(lambda: wire.call("GetQueueAttributes", {"QueueUrl": deep, "AttributeNames": ["All"]}))
                  for _ in range(100)]
    visible = wire.call("GetQueueAttributes", {"QueueUrl": deep, "AttributeNames": ["All"]})["Attributes"][
        "ApproximateNumberOfMessages"]
    return rows + [
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
    parser.add_argument("--rounds", type=int, default=8, help="alternating idle and polled rounds")
    parser.add_argument("--no-fifo", action="store_true", help="only the head-of-line rows")
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    peer = eventyard().start()
    try:
        rows = head_of_line(peer, args.samples, max(depths), args.rounds)
        if not args.no_fifo:
            rows += fifo_receive(peer, depths, args.samples)
    finally:
        peer.stop()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()

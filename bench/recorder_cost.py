"""What the CloudWatch metrics recorder adds to SQS's hot path, measured without the load's noise.

The recorder's cost has two parts: the calls an operation makes (`SqsMetrics.sent`/`received`/
`deleted`, memory only) and the supervised loop that writes closed periods and samples the queue-depth
gauges. On a shared 2-core machine a throughput A/B with metrics on and off (bench/cloudwatch.py)
moves by more than the 5 % being looked for, so this script measures each part on its own:

1. the hot-path calls in-process, best of 5 × N calls (`timeit`), to compare with an operation's server
   CPU (bench/sqs.py's `server µs/item`);
2. the periodic work: two idle servers, metrics on and off, each holding `--queues` queues with a
   message, for `--idle` seconds; the difference in server CPU is what the loop and the gauges cost,
   whatever the request rate.

    python bench/recorder_cost.py [--calls 200000] [--idle 180] [--queues 20]
"""

from __future__ import annotations

import argparse
import time
import timeit
import types
from collections.abc import Callable

from load import load_average
from peers import eventyard

from eventyard.runtime.clock import SystemClock
from eventyard.runtime.metrics import MetricsRecorder
from eventyard.services.sqs.metrics import SqsMetrics

QUEUE_URL = "http://127.0.0.1:4566/queue/us-east-1/000000000000/bench"


def hot_path(calls: int) -> None:
    clock = SystemClock()
    metrics = SqsMetrics(types.SimpleNamespace(metrics=MetricsRecorder(None, clock), clock=clock))  # type: ignore[arg-type]
    cases: list[tuple[str, Callable[[], None]]] = [
        ("SendMessage: sent(1 message)", lambda: metrics.sent(QUEUE_URL, "us-east-1", [256])),
        ("SendMessageBatch: sent(10 messages)", lambda: metrics.sent(QUEUE_URL, "us-east-1", [200] * 10)),
        ("ReceiveMessage: received(10)", lambda: metrics.received(QUEUE_URL, "us-east-1", 10)),
        ("DeleteMessageBatch: deleted(10)", lambda: metrics.deleted(QUEUE_URL, "us-east-1", 10)),
    ]
    print("| the recorder's call, in-process | µs per call (best of 5) |")
    print("| --- | ---: |")
    for label, call in cases:
        best = min(timeit.repeat(call, number=calls, repeat=5)) / calls * 1e6
        print(f"| {label} | {best:.2f} |")


def periodic(seconds: float, queues: int) -> None:
    servers = {"on": eventyard(name="metrics on"), "off": eventyard(name="metrics off")}
    servers["off"].env["EVENTYARD_METRICS"] = "off"
    try:
        for server in servers.values():
            server.start()
            sqs = server.client("sqs")
            for n in range(queues):
                url = sqs.create_queue(QueueName=f"idle-{n}")["QueueUrl"]
                sqs.send_message(QueueUrl=url, MessageBody="x")
        started = {mode: server.cpu_seconds() for mode, server in servers.items()}
        time.sleep(seconds)
        used = {mode: server.cpu_seconds() - started[mode] for mode, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    print(f"\n| idle for {seconds:.0f} s, {queues} queues holding messages | server CPU ms | per minute |")
    print("| --- | ---: | ---: |")
    for mode, cpu in used.items():
        print(f"| metrics {mode} | {cpu * 1000:.0f} | {cpu * 1000 * 60 / seconds:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--idle", type=float, default=180.0)
    parser.add_argument("--queues", type=int, default=20)
    opts = parser.parse_args()
    print(f"# load average before: {load_average()}")
    hot_path(opts.calls)
    periodic(opts.idle, opts.queues)
    print(f"# load average after: {load_average()}")


if __name__ == "__main__":
    main()

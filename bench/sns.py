"""SNS through boto3: publish throughput to a topic with 3 filtered SQS subscriptions, and
end-to-end delivery latency (publish -> message receivable in SQS), for Eventyard, moto's server
and MiniStack side by side in one run.

Eventyard commits every publish and its deliveries (SQLite WAL) before acknowledging; the peers
keep state in memory and deliver inline. Load comes from several client processes, because one
boto3 process tops out near 450 calls/s.

    python bench/sns.py [--seconds 5] [--publishers 4] [--latency-samples 200]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import time
from typing import Any

from peers import Peer, available, eventyard, ministack, moto

POLICIES = [  # each message matches one or two of these
    {"kind": ["order"]},
    {"kind": ["refund"]},
    {"price": [{"numeric": [">", 50]}]},
]


def _client(service: str, url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 2}))


def _attributes(i: int) -> dict[str, Any]:
    return {"kind": {"DataType": "String", "StringValue": "order" if i % 2 else "refund"},
            "price": {"DataType": "Number", "StringValue": str(i % 100)}}


def _expected_deliveries(count: int) -> int:
    return count + sum(1 for i in range(count) if i % 100 > 50)


def _publisher(url: str, topic_arn: str, seconds: float, out: Any) -> None:
    sns = _client("sns", url)
    sent, start, cpu = 0, time.monotonic(), time.process_time()
    while time.monotonic() - start < seconds:
        sns.publish(TopicArn=topic_arn, Message=f"message {sent}", MessageAttributes=_attributes(sent))
        sent += 1
    out.put((sent, _expected_deliveries(sent), time.process_time() - cpu))


def _setup(url: str, tag: str) -> tuple[str, list[str]]:
    sns, sqs = _client("sns", url), _client("sqs", url)
    topic_arn = sns.create_topic(Name=f"bench-{tag}")["TopicArn"]
    urls = []
    for i, policy in enumerate(POLICIES):
        queue_url = sqs.create_queue(QueueName=f"bench-{tag}-{i}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                      Attributes={"FilterPolicy": json.dumps(policy), "RawMessageDelivery": "true"})
        urls.append(queue_url)
    return topic_arn, urls


def _count(sqs: Any, urls: list[str]) -> int:
    total = 0
    for url in urls:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        total += int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return total


def _throughput(server: Peer, publishers: int, seconds: float) -> dict[str, float]:
    topic_arn, urls = _setup(server.url, "tp")
    sqs = _client("sqs", server.url)
    out: Any = mp.Queue()
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    procs = [mp.Process(target=_publisher, args=(server.url, topic_arn, seconds, out)) for _ in range(publishers)]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    published = sum(r[0] for r in results)
    expected = sum(r[1] for r in results)
    # Deliveries: wait (bounded) until every matching delivery is in its queue.
    deadline = time.monotonic() + 60
    delivered = _count(sqs, urls)
    while delivered < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        delivered = _count(sqs, urls)
    drained = time.monotonic() - started
    return {"publish_per_s": published / elapsed, "published": published, "delivered": delivered,
            "expected": expected, "deliveries_per_s": delivered / drained,
            "server_cpu": server.cpu_seconds() - cpu_before, "client_cpu": sum(r[2] for r in results),
            "elapsed": elapsed}


def _latency(server: Peer, samples: int) -> tuple[float, float]:
    topic_arn, urls = _setup(server.url, "lat")
    sns, sqs = _client("sns", server.url), _client("sqs", server.url)
    latencies = []
    for i in range(samples):
        started = time.monotonic()
        sns.publish(TopicArn=topic_arn, Message=f"probe {i}", MessageAttributes=_attributes(1))  # kind=order
        while True:
            messages = sqs.receive_message(QueueUrl=urls[0], WaitTimeSeconds=5).get("Messages", [])
            if messages:
                break
            if time.monotonic() - started > 10:
                raise RuntimeError(f"{server.name}: no delivery within 10 s")
        latencies.append((time.monotonic() - started) * 1000)
        sqs.delete_message(QueueUrl=urls[0], ReceiptHandle=messages[0]["ReceiptHandle"])
    latencies.sort()
    return statistics.median(latencies), latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--latency-samples", type=int, default=200)
    args = parser.parse_args()
    rows = []
    for server in available([eventyard, moto, ministack]):
        try:
            server.start()
            throughput = _throughput(server, args.publishers, args.seconds)
            p50, p99 = _latency(server, args.latency_samples)
            rows.append((server.name, throughput, p50, p99))
        except Exception as error:  # a peer that cannot do this scenario is reported, not fatal
            print(f"{server.name}: {error}", file=sys.stderr)
        finally:
            server.stop()
    print(f"\nSNS publish -> 3 filtered SQS subscriptions, {args.publishers} publisher processes x {args.seconds:g} s, "
          f"latency over {args.latency_samples} sequential publishes\n")
    header = ("server", "publish/s", "delivered/expected", "deliveries/s", "e2e p50 ms", "e2e p99 ms",
              "server CPU s", "client CPU s")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, t, p50, p99 in rows:
        print(f"| {name} | {t['publish_per_s']:.0f} | {t['delivered']}/{t['expected']} | {t['deliveries_per_s']:.0f} "
              f"| {p50:.1f} | {p99:.1f} | {t['server_cpu']:.1f} | {t['client_cpu']:.1f} |")
    base = next((r for r in rows if r[0] == "eventyard"), None)
    if base:
        for name, t, p50, _ in rows:
            if name != "eventyard":
                print(f"eventyard / {name}: publish x{base[1]['publish_per_s'] / t['publish_per_s']:.2f}, "
                      f"p50 latency x{base[2] / p50:.2f} (below 1: Eventyard is faster)")


if __name__ == "__main__":
    main()

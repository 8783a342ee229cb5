"""Deliveries under sustained load: how fast a fan-out (EventBridge -> SQS, SNS -> SQS) empties into
its queues and how late each delivery lands.

Producers (raw clients, several processes) stamp every event or message with the wall-clock time
they sent it; SQS stamps each delivery with `SentTimestamp` when it is stored. After the load, the
target queues are watched until every expected delivery is there (bounded), then drained: each
delivery's lag is its SentTimestamp minus its producer's stamp, and delivered/s is the deliveries
over the time from the first send to the last delivery.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rawhttp import Connection, JsonClient, percentile, run_async

SQS = "AmazonSQS."


@dataclass
class Deliveries:
    expected: int
    delivered: int
    per_second: float
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    lag_max_ms: float | None
    waited: float  # seconds spent after the load until every delivery was stored (or the bound)

    def describe(self) -> str:
        if not self.delivered:
            return f"0 of {self.expected} delivered"
        return (f"{self.delivered:,}/{self.expected:,} delivered, {self.per_second:,.0f}/s, lag p50 "
                f"{self.lag_p50_ms:,.0f} ms p99 {self.lag_p99_ms:,.0f} ms max {self.lag_max_ms:,.0f} ms")


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


async def _count(sqs: JsonClient, queue_urls: list[str]) -> int:
    total = 0
    for url in queue_urls:
        got = await sqs.call(SQS + "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": [
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]})
        attributes = got.get("Attributes", {})
        total += int(attributes.get("ApproximateNumberOfMessages", 0))
        total += int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
    return total


async def _drain(url: str, queue_url: str, stamp_of: Callable[[str], float | None], lags: list[float],
                 last: list[float]) -> None:
    sqs = JsonClient(await Connection(*_host_port(url)).open(), "sqs")
    empty = 0
    while empty < 2:
        got = await sqs.call(SQS + "ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 10,
                                                      "AttributeNames": ["SentTimestamp"]})
        messages = got.get("Messages", [])
        if not messages:
            empty += 1
            continue
        for message in messages:
            stored = int(message["Attributes"]["SentTimestamp"]) / 1000
            stamp = stamp_of(message["Body"])
            if stamp is not None:
                lags.append(stored - stamp)
            last[0] = max(last[0], stored)
        await sqs.call(SQS + "DeleteMessageBatch", {"QueueUrl": queue_url, "Entries": [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]})
    sqs.connection.close()


def collect(url: str, queue_urls: list[str], expected: int, load_started: float, stamp_of: Callable[[str], float | None],
            bound: float = 60.0) -> Deliveries:
    """Wait (at most `bound` s) until `expected` deliveries are stored, then drain and measure them.
    `load_started` is the wall-clock time (time.time()) the producers started."""
    async def work() -> Deliveries:
        sqs = JsonClient(await Connection(*_host_port(url)).open(), "sqs")
        waited_from = time.monotonic()
        stored = await _count(sqs, queue_urls)
        while stored < expected and time.monotonic() - waited_from < bound:
            await asyncio.sleep(0.25)
            stored = await _count(sqs, queue_urls)
        waited = time.monotonic() - waited_from
        sqs.connection.close()
        lags: list[float] = []
        last = [load_started]
        await asyncio.gather(*(_drain(url, q, stamp_of, lags, last) for q in queue_urls for _ in range(2)))
        span = max(last[0] - load_started, 1e-3)
        p50, p99 = percentile(lags, 0.5), percentile(lags, 0.99)
        return Deliveries(expected, len(lags), len(lags) / span, p50 * 1000 if p50 is not None else None,
                          p99 * 1000 if p99 is not None else None, max(lags) * 1000 if lags else None, waited)

    result: Deliveries = run_async(work)
    return result


def stamp_in_json(key: str, *path: str) -> Callable[[str], float | None]:
    """The producer's stamp inside a JSON body (`path` leads to the object holding `key`)."""
    def stamp_of(body: str) -> float | None:
        try:
            document: Any = json.loads(body)
            for step in path:
                document = document[step]
            if isinstance(document, str):  # SNS's raw delivery of a JSON message, EventBridge's detail
                document = json.loads(document)
            return float(document[key])
        except (ValueError, KeyError, TypeError):
            return None

    return stamp_of

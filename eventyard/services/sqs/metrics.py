"""SQS's CloudWatch metrics (namespace AWS/SQS, dimension QueueName), as AWS publishes them.

Counts (NumberOfMessagesSent, -Received, -Deleted, NumberOfEmptyReceives) and SentMessageSize are
recorded in memory by the provider's operations; the queue-depth gauges
(ApproximateNumberOfMessagesVisible, -NotVisible, -Delayed, ApproximateAgeOfOldestMessage) are read
once per period from each queue's message counter (`bookkeeping.py`) and a few indexed rows, never
by scanning messages. Like AWS, gauges are published for *active* queues: those holding messages, or
created or used in the last six hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventyard.runtime.metric_store import Dimensions
from eventyard.runtime.metrics import GaugeSample, MetricsRecorder
from eventyard.services.sqs import bookkeeping
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

NAMESPACE = "AWS/SQS"
ACTIVE_FOR = 6 * 3600.0
MAX_REMEMBERED = 10_000  # queue URLs whose parsed form is kept


def _queue(url: str) -> tuple[str, str]:
    """(account, queue name) of an already-validated queue URL, without parsing it again."""
    head, _, name = url.rstrip("/").rpartition("/")
    return head.rpartition("/")[2], name


class SqsMetrics:
    def __init__(self, platform: Platform) -> None:
        self.recorder: MetricsRecorder = platform.metrics
        self.platform = platform
        self._used: dict[tuple[str, str, str], float] = {}  # queue -> last time an operation used it
        self._queues: dict[tuple[str, str], tuple[str, str, Dimensions]] = {}  # (url, region) -> account, name, dims
        self.recorder.add_gauge_source("sqs", self._gauges)

    def _queue(self, url: str, region: str, now: float | None = None) -> tuple[str, Dimensions]:
        """The queue's account and dimensions, remembered (sends to one queue repeat its URL); with
        `now`, the queue counts as used then (a queue being sent to holds messages: active anyway)."""
        known = self._queues.get((url, region))
        if known is None:
            if len(self._queues) > MAX_REMEMBERED:
                self._queues.clear()
            account, name = _queue(url)
            known = self._queues[(url, region)] = (account, name, (("QueueName", name),))
        account, name, dims = known
        if now is not None:
            self._used[(account, region, name)] = now
        return account, dims

    def sent(self, url: str, region: str, sizes: Iterable[int]) -> None:
        if not self.recorder.enabled:
            return
        now = self.platform.clock.now()
        account, dims = self._queue(url, region)
        count = 0
        for size in sizes:
            count += 1
            # SentMessageSize's documented statistics have no percentiles: no sketch to keep
            self.recorder.observe(NAMESPACE, "SentMessageSize", dims, float(size), "Bytes", account_id=account,
                                  region=region, timestamp=now, percentiles=False)
        if count:
            self.recorder.count(NAMESPACE, "NumberOfMessagesSent", dims, float(count), account_id=account,
                                region=region, timestamp=now)

    def received(self, url: str, region: str, messages: int) -> None:
        if not self.recorder.enabled:
            return
        account, dims = self._queue(url, region, self.platform.clock.now())
        if messages:
            self.recorder.count(NAMESPACE, "NumberOfMessagesReceived", dims, float(messages), account_id=account,
                                region=region)
        else:
            self.recorder.count(NAMESPACE, "NumberOfEmptyReceives", dims, account_id=account, region=region)

    def deleted(self, url: str, region: str, messages: int) -> None:
        if not self.recorder.enabled or not messages:
            return
        account, dims = self._queue(url, region, self.platform.clock.now())
        self.recorder.count(NAMESPACE, "NumberOfMessagesDeleted", dims, float(messages), account_id=account,
                            region=region)

    async def _gauges(self, now: float) -> list[GaugeSample]:
        horizon = now - ACTIVE_FOR
        self._used = {k: v for k, v in self._used.items() if v >= horizon}
        rows = await self.platform.db.read(lambda conn: depths(conn, now, horizon, set(self._used)))
        out: list[GaugeSample] = []
        for account, region, name, depth in rows:
            dims = (("QueueName", name),)
            for metric, value, unit in (
                    ("ApproximateNumberOfMessagesVisible", depth.visible, "Count"),
                    ("ApproximateNumberOfMessagesNotVisible", depth.not_visible, "Count"),
                    ("ApproximateNumberOfMessagesDelayed", depth.delayed, "Count"),
                    ("ApproximateAgeOfOldestMessage", depth.oldest_age, "Seconds")):
                out.append(GaugeSample(account, region, NAMESPACE, metric, dims, float(value), unit))
        return out


@dataclass(frozen=True)
class Depth:
    visible: int = 0
    not_visible: int = 0
    delayed: int = 0
    oldest_age: float = 0.0


def depths(conn: Connection, now: float, horizon: float,
           used: set[tuple[str, str, str]]) -> list[tuple[str, str, str, Depth]]:
    """The depth gauges of every active queue (holding messages, or created or used since `horizon`),
    read from the queues' message counters: the stored count first, then, for the queues that hold
    messages, the same small indexed ranges GetQueueAttributes counts, and the oldest message by
    the (queue, expiry) index. Nothing here reads a queue's messages one by one."""
    stored = {int(row[0]): int(row[1] or 0) for row in conn.execute(
        "SELECT queue_id, SUM(messages) FROM sqs_queue_counters GROUP BY queue_id").fetchall()}
    out: list[tuple[str, str, str, Depth]] = []
    for queue_id, account, region, name, created_at in conn.execute(
            "SELECT id, account_id, region, name, created_at FROM sqs_queues").fetchall():
        if stored.get(int(queue_id), 0) > 0:
            counts = bookkeeping.counts(conn, queue_id, now)
            out.append((account, region, name, Depth(
                counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"],
                counts["ApproximateNumberOfMessagesDelayed"], oldest_age(conn, queue_id, now))))
        elif created_at >= horizon or (account, region, name) in used:
            out.append((account, region, name, Depth()))
    return out


def oldest_age(conn: Connection, queue_id: int, now: float) -> float:
    """ApproximateAgeOfOldestMessage: seconds since the oldest stored message was sent, passing over
    messages received three times or more (AWS leaves such poison pills out of the metric). A queue's
    messages expire in the order they were sent, so the (queue_id, expires_at) index walks them
    oldest first and the first one kept is the answer."""
    row = conn.execute(
        "SELECT sent_at FROM sqs_messages WHERE queue_id = ? AND expires_at > ? AND receive_count < 3"
        " ORDER BY expires_at LIMIT 1", (queue_id, now)).fetchone()
    return max(0.0, now - float(row[0])) if row is not None else 0.0

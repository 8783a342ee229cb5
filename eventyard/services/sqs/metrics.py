"""SQS's CloudWatch metrics (namespace AWS/SQS, dimension QueueName), as AWS publishes them.

Counts (NumberOfMessagesSent, -Received, -Deleted, NumberOfEmptyReceives) and SentMessageSize are
recorded in memory by the provider's operations; the queue-depth gauges
(ApproximateNumberOfMessagesVisible, -NotVisible, -Delayed, ApproximateAgeOfOldestMessage) are read
from the messages table once per period. Like AWS, gauges are published for *active* queues: those
holding messages, or created or used in the last six hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from eventyard.runtime.metric_store import Dimensions
from eventyard.runtime.metrics import GaugeSample, MetricsRecorder
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
        rows = await self.platform.db.read(lambda conn: _depths(conn, now))
        horizon = now - ACTIVE_FOR
        self._used = {k: v for k, v in self._used.items() if v >= horizon}
        out: list[GaugeSample] = []
        for account, region, name, created_at, visible, invisible, delayed, oldest in rows:
            total = (visible or 0) + (invisible or 0) + (delayed or 0)
            if not total and created_at < horizon and (account, region, name) not in self._used:
                continue
            dims = (("QueueName", name),)
            age = max(0.0, now - oldest) if oldest is not None else 0.0
            for metric, value, unit in (("ApproximateNumberOfMessagesVisible", visible or 0, "Count"),
                                        ("ApproximateNumberOfMessagesNotVisible", invisible or 0, "Count"),
                                        ("ApproximateNumberOfMessagesDelayed", delayed or 0, "Count"),
                                        ("ApproximateAgeOfOldestMessage", age, "Seconds")):
                out.append(GaugeSample(account, region, NAMESPACE, metric, dims, float(value), unit))
        return out


def _depths(conn: Connection, now: float) -> list[tuple[str, str, str, float, int, int, int, float | None]]:
    rows = conn.execute(
        """
        SELECT q.account_id, q.region, q.name, q.created_at,
          SUM(CASE WHEN m.available_at <= ? THEN 1 ELSE 0 END),
          SUM(CASE WHEN m.available_at > ? AND m.receive_count > 0 THEN 1 ELSE 0 END),
          SUM(CASE WHEN m.available_at > ? AND m.receive_count = 0 THEN 1 ELSE 0 END),
          MIN(m.sent_at)
        FROM sqs_queues q LEFT JOIN sqs_messages m ON m.queue_id = q.id AND m.expires_at > ?
        GROUP BY q.id, q.account_id, q.region, q.name, q.created_at
        """,
        (now, now, now, now),
    ).fetchall()
    return [tuple(row) for row in rows]  # type: ignore[misc]

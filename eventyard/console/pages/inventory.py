"""What exists, across services and regions: counts for the overview and the DLQ badges.

Counts come from each service's list operations (through `Platform.call`), region by region; SQS's
named `queue_summaries` lists every region's queues with their redrive targets in one read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventyard.console.regions import aws_regions
from eventyard.console.web import ConsoleRequest
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.console.console import Console

Counter = Callable[["Console", ConsoleRequest, str], Awaitable[int]]


@dataclass
class DeadLetterQueue:
    arn: str
    url: str
    depth: int
    in_flight: int
    oldest_sent_at: float | None
    sources: list[str] = field(default_factory=list)  # ARNs of queues/functions that send it messages


async def _count(console: Console, request: ConsoleRequest, region: str, service: str, operation: str,
                 key: str, params: dict[str, Any] | None = None, token: str = "NextToken") -> int:
    if not console.has(service):
        return 0
    return len(await console.collect(request, service, operation, key, params, token=token, region=region))


async def _topics(c: Console, r: ConsoleRequest, region: str) -> int:
    return await _count(c, r, region, "sns", "ListTopics", "Topics")


async def _rules(c: Console, r: ConsoleRequest, region: str) -> int:
    if not c.has("events"):
        return 0
    buses = await c.collect(r, "events", "ListEventBuses", "EventBuses", region=region)
    counts = [await _count(c, r, region, "events", "ListRules", "Rules", {"EventBusName": b["Name"]}) for b in buses]
    return sum(counts)


async def _schedules(c: Console, r: ConsoleRequest, region: str) -> int:
    return await _count(c, r, region, "scheduler", "ListSchedules", "Schedules")


async def _functions(c: Console, r: ConsoleRequest, region: str) -> int:
    return await _count(c, r, region, "lambda", "ListFunctions", "Functions", token="NextMarker")


async def _machines(c: Console, r: ConsoleRequest, region: str) -> int:
    return await _count(c, r, region, "stepfunctions", "ListStateMachines", "stateMachines", token="nextToken")


async def _streams(c: Console, r: ConsoleRequest, region: str) -> int:
    return await _count(c, r, region, "kinesis", "ListStreams", "StreamNames")


async def _alarms(c: Console, r: ConsoleRequest, region: str) -> int:
    return await _count(c, r, region, "cloudwatch", "DescribeAlarms", "MetricAlarms")


COUNTERS: list[tuple[str, str, str, Counter]] = [
    ("SNS topics", "sns", "sns", _topics),
    ("EventBridge rules", "events", "events", _rules),
    ("Schedules", "scheduler", "events/schedules", _schedules),
    ("Lambda functions", "lambda", "lambda", _functions),
    ("State machines", "stepfunctions", "sfn", _machines),
    ("Kinesis streams", "kinesis", "kinesis", _streams),
    ("CloudWatch alarms", "cloudwatch", "cloudwatch", _alarms),
]


async def region_counts(console: Console, request: ConsoleRequest) -> dict[str, dict[str, int]]:
    """{region: {label: count}} for every region that holds at least one resource."""
    counts: dict[str, dict[str, int]] = {}
    provider = console.provider("sqs")
    if provider is not None:
        for summary in await provider.queue_summaries(request.account_id, None):
            row = counts.setdefault(summary.key.region, {})
            row["SQS queues"] = row.get("SQS queues", 0) + 1
    regions = sorted({*aws_regions(), request.region, *counts})

    async def one(region: str, label: str, counter: Counter) -> tuple[str, str, int]:
        try:
            return region, label, await counter(console, request, region)
        except AwsError:
            return region, label, 0  # a service that refuses a region counts nothing there

    asked = [one(region, label, counter) for region in regions for label, service, _, counter in COUNTERS
             if console.has(service)]
    for region, label, number in await asyncio.gather(*asked):  # all at once: reads run side by side
        if number:
            counts.setdefault(region, {})[label] = number
    return {region: counts[region] for region in sorted(counts)}


async def dead_letter_queues(console: Console, request: ConsoleRequest, region: str) -> list[DeadLetterQueue]:
    """The region's dead-letter queues (targets of a queue's RedrivePolicy or a function's
    DeadLetterConfig), with depth and the time the oldest message was sent."""
    provider = console.provider("sqs")
    if provider is None:
        return []
    sources: dict[str, list[str]] = {}
    for summary in await provider.queue_summaries(request.account_id, region):
        if summary.dead_letter_target_arn:
            sources.setdefault(summary.dead_letter_target_arn, []).append(summary.key.arn)
    if console.has("lambda"):
        for function in await console.collect(request, "lambda", "ListFunctions", "Functions", token="NextMarker",
                                              region=region):
            target = (function.get("DeadLetterConfig") or {}).get("TargetArn", "")
            if ":sqs:" in target:
                sources.setdefault(target, []).append(function["FunctionArn"])
    found = []
    for arn, senders in sorted(sources.items()):
        queue = await queue_state(console, request, arn)
        if queue is not None:
            queue.sources = senders
            found.append(queue)
    return found


async def queue_state(console: Console, request: ConsoleRequest, arn: str) -> DeadLetterQueue | None:
    """Depth (GetQueueAttributes) and the oldest message's send time (a peek) of one queue."""
    _, _, _, region, account, name = arn.split(":", 5)
    try:
        url = (await console.call(request, "sqs", "GetQueueUrl", {"QueueName": name,
                                                                  "QueueOwnerAWSAccountId": account}, region))["QueueUrl"]
        attributes = (await console.call(request, "sqs", "GetQueueAttributes", {
            "QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages",
                                                "ApproximateNumberOfMessagesNotVisible"]}, region))["Attributes"]
    except AwsError:
        return None  # a redrive target that does not exist (any more)
    depth = int(attributes["ApproximateNumberOfMessages"])
    in_flight = int(attributes["ApproximateNumberOfMessagesNotVisible"])
    oldest = None
    if depth + in_flight:
        peeked = await console.provider("sqs").peek_messages(account, region, name, 1)
        oldest = peeked[0]["SentTimestamp"] if peeked else None
    return DeadLetterQueue(arn, url, depth, in_flight, oldest)

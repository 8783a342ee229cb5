"""Running a pipe: its source is polled through the source service's own operations, and each batch
goes through the filters, the enrichment and the target.

At least once, as AWS: an SQS message is deleted only once its batch reached the target (or a filter
dropped it, which AWS also deletes); a failed batch comes back after the queue's visibility timeout
and, past maxReceiveCount, goes to the queue's dead-letter queue. A Kinesis shard's position is
checkpointed after each run of records, so a restarted server resumes after the last delivered
record; a failed batch blocks its shard and is retried (MaximumRetryAttempts, AUTOMATIC_BISECT,
MaximumRecordAgeInSeconds) before it is described to the DeadLetterConfig.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.pipes import pipe_trace, store
from eventyard.services.pipes.config import parse_arn, source_kind
from eventyard.services.pipes.metrics import PipeMetrics
from eventyard.services.pipes.pipe_logs import ExecutionLog
from eventyard.services.pipes.targets import Caller, StageFailed
from eventyard.services.pipes.templates import PipeNames, transformed
from eventyard.services.sources import queues
from eventyard.services.sources.records import (
    compile_filters,
    kinesis_data,
    kinesis_envelope,
    lane,
    passes,
    sqs_record,
)
from eventyard.services.sources.shards import ShardWalker

log = logging.getLogger(__name__)
SQS_CONCURRENCY = 5  # batches of a standard queue in flight at once (a FIFO queue: one)


class PipeRunner:
    """One RUNNING pipe: its source poller and the path of each batch."""

    def __init__(self, platform: Any, pipe: dict[str, Any]) -> None:
        self.platform = platform
        self.pipe = pipe
        self.kind = source_kind(pipe["Source"])
        self.data_key = "body" if self.kind == "sqs" else "data"
        self.filters = compile_filters((pipe.get("SourceParameters") or {}).get("FilterCriteria"))
        self.metrics = PipeMetrics(platform, pipe)
        self.names = PipeNames(pipe["Arn"], pipe["Name"], pipe["Source"], pipe.get("Enrichment") or "",
                               pipe["Target"])

    async def run(self) -> None:
        if self.kind == "sqs":
            await QueueSource(self).run()
        else:
            await StreamSource(self).run()

    def identifier(self, record: dict[str, Any]) -> str:
        return str(record["messageId"] if self.kind == "sqs" else record["sequenceNumber"])

    async def execute(self, records: list[dict[str, Any]]) -> set[int]:
        """Take one batch through the pipe. Returns the indices of the records that failed (the
        filtered-out ones count as done)."""
        kept = [i for i, r in enumerate(records) if passes(self.filters, r, self.data_key)]
        if not kept:
            return set()
        batch = [records[i] for i in kept]
        journal = ExecutionLog(self.platform, self.pipe)
        journal.add("ExecutionStarted", batch)
        self.metrics.count("Invocations")
        self.metrics.count("EventCount", len(batch))
        started = asyncio.get_running_loop().time()
        trace = await pipe_trace.received(self.platform, self.kind, self.pipe["Source"], batch)
        began = self.platform.clock.now()
        failed: set[int] = set(range(len(batch)))
        try:
            failed = await self._through_stages(batch, journal, trace)
        finally:
            await journal.flush()
            if trace is not None:  # a traced batch leaves a hop: the pipe, its records and its outcome
                await pipe_trace.record(self.platform, self.pipe, trace, began, [self.identifier(r) for r in batch],
                                        failed)
        self.metrics.duration("Duration", asyncio.get_running_loop().time() - started)
        if failed:
            self.metrics.count("ExecutionFailed" if len(failed) == len(batch) else "ExecutionPartiallyFailed")
        return {kept[i] for i in failed}

    async def _through_stages(self, batch: list[dict[str, Any]], journal: ExecutionLog,
                              trace: pipe_trace.Traced | None) -> set[int]:
        now = self.platform.clock.now()
        caller = Caller(self.platform, self.pipe, [self.identifier(r) for r in batch])
        caller.trace = trace.downstream if trace else None
        everything = set(range(len(batch)))
        events: list[Any] = batch
        if self.pipe.get("Enrichment"):
            template = (self.pipe.get("EnrichmentParameters") or {}).get("InputTemplate")
            events = [transformed(template, r, self.names, now) for r in batch]
            caller.originals = list(batch)
            journal.add("EnrichmentInvocationStarted", events)
            started = asyncio.get_running_loop().time()
            try:
                events = await caller.enrich(events)
            except StageFailed as failure:
                journal.add("EnrichmentInvocationFailed", events, str(failure))
                journal.add("ExecutionFailed", None, str(failure))
                self.metrics.count("EnrichmentStageFailed")
                return everything
            finally:
                self.metrics.duration("EnrichmentStageDuration", asyncio.get_running_loop().time() - started)
            journal.add("EnrichmentInvocationSucceeded", events)
        else:
            journal.add("EnrichmentStageSkipped")
        if not events:  # the enrichment kept nothing: the batch is done (AWS stops the execution)
            journal.add("TargetStageSkipped")
            journal.add("ExecutionSucceeded")
            self.metrics.count("TargetStageSkipped")
            return set()
        template = (self.pipe.get("TargetParameters") or {}).get("InputTemplate")
        caller.originals = list(events)
        events = [transformed(template, e, self.names, now) for e in events]
        journal.add("TargetInvocationStarted", events)
        started = asyncio.get_running_loop().time()
        try:
            outcome = await caller.deliver(events)
        except StageFailed as failure:
            journal.add("TargetInvocationFailed", events, str(failure))
            journal.add("ExecutionFailed", None, str(failure))
            self.metrics.count("TargetStageFailed")
            return everything
        finally:
            self.metrics.duration("TargetStageDuration", asyncio.get_running_loop().time() - started)
        if outcome.ok:
            journal.add("TargetInvocationSucceeded", events)
            journal.add("ExecutionSucceeded")
            return set()
        journal.add("TargetInvocationPartiallyFailed", events)
        failed = {i for i, r in enumerate(batch) if self.identifier(r) in outcome.failed_ids}
        if outcome.failed_indices:
            # Events map to records one to one only when no enrichment changed the batch's length.
            failed |= outcome.failed_indices if len(events) == len(batch) else everything
        return failed


class QueueSource:
    """An SQS queue: batches are received, processed concurrently (FIFO: one at a time) and deleted."""

    def __init__(self, runner: PipeRunner) -> None:
        self.runner = runner
        self.platform = runner.platform
        arn = parse_arn(runner.pipe["Source"])
        assert arn is not None
        self.arn = arn
        own = (runner.pipe.get("SourceParameters") or {}).get("SqsQueueParameters") or {}
        self.size = int(own.get("BatchSize", 10))
        self.window = float(own.get("MaximumBatchingWindowInSeconds", 0))
        self.tasks: set[asyncio.Task[None]] = set()

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self.platform.call("sqs", operation, params, region=self.arn.region, account_id=self.arn.account)

    async def run(self) -> None:
        url = (await self.call("GetQueueUrl", {"QueueName": self.arn.resource,
                                               "QueueOwnerAWSAccountId": self.arn.account}))["QueueUrl"]
        slots = asyncio.Semaphore(1 if self.arn.resource.endswith(".fifo") else SQS_CONCURRENCY)
        try:
            while True:
                await slots.acquire()
                try:
                    messages = await queues.receive_batch(self.call, url, self.size, self.window)
                except AwsError as error:
                    slots.release()
                    log.info("pipe %s cannot read %s: %s", self.runner.pipe["Name"], self.arn.text, error)
                    await asyncio.sleep(2)
                    continue
                if not messages:
                    slots.release()
                    continue
                task = asyncio.get_running_loop().create_task(self.process(url, messages, slots.release))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        finally:
            for task in self.tasks:
                task.cancel()

    async def process(self, url: str, messages: list[dict[str, Any]], done: Callable[[], None]) -> None:
        try:
            records = [sqs_record(m, self.arn.text, self.arn.region) for m in messages]
            failed = await self.runner.execute(records)
            await queues.delete_messages(self.call, url, [r["receiptHandle"] for i, r in enumerate(records)
                                                          if i not in failed])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pipe %s failed a batch", self.runner.pipe["Name"])
        finally:
            done()


class StreamSource(ShardWalker):
    """A Kinesis stream: shards in order, lanes by partition key, retries that block the shard."""

    def __init__(self, runner: PipeRunner) -> None:
        self.runner = runner
        self.own = (runner.pipe.get("SourceParameters") or {}).get("KinesisStreamParameters") or {}
        super().__init__(runner.platform, runner.pipe["Source"], batch_size=int(self.own.get("BatchSize", 100)),
                         window=float(self.own.get("MaximumBatchingWindowInSeconds", 0)),
                         label=f"pipes:{runner.pipe['Name']}")
        self.lanes = max(1, int(self.own.get("ParallelizationFactor", 1)))
        self.bisect = self.own.get("OnPartialBatchItemFailure") == "AUTOMATIC_BISECT"
        self.max_retries = int(self.own.get("MaximumRetryAttempts", -1))
        self.max_age = int(self.own.get("MaximumRecordAgeInSeconds", -1))
        self.dead_letter = (self.own.get("DeadLetterConfig") or {}).get("Arn")

    def wanted(self) -> int:
        return min(10000, self.batch_size * self.lanes)

    async def positions(self) -> dict[str, Any]:
        arn = self.runner.pipe["Arn"]
        return dict(await self.platform.db.read(lambda conn: store.positions(conn, arn)))

    async def save(self, entry: str, update: Callable[[dict[str, Any]], None]) -> None:
        arn = self.runner.pipe["Arn"]
        await self.platform.db.write(lambda conn: store.update_position(conn, arn, entry, update))

    def record(self, shard_id: str, raw: dict[str, Any]) -> dict[str, Any]:
        """A Kinesis record as a pipe passes it on: AWS's Lambda record, flattened."""
        return {**kinesis_envelope(shard_id, raw["SequenceNumber"], self.stream_arn, self.region,
                                   self.runner.pipe["RoleArn"]), **kinesis_data(raw)}

    async def on_records(self, shard_id: str, records: list[dict[str, Any]], state: dict[str, Any]) -> None:
        by_lane: list[list[dict[str, Any]]] = [[] for _ in range(self.lanes)]
        for raw in records:
            by_lane[lane(raw["PartitionKey"], self.lanes) if self.lanes > 1 else 0].append(raw)
        await asyncio.gather(*(self.deliver(shard_id, run) for run in by_lane if run))

    async def deliver(self, shard_id: str, raws: list[dict[str, Any]]) -> None:
        pending: deque[tuple[list[dict[str, Any]], int, int]] = deque(
            (raws[i:i + self.batch_size], 0, 0) for i in range(0, len(raws), self.batch_size))
        while pending:
            batch, retries, invokes = pending.popleft()
            batch = await self.drop_expired(shard_id, batch, invokes)
            if not batch:
                continue
            failed = await self.runner.execute([self.record(shard_id, r) for r in batch])
            invokes += 1
            if not failed:
                continue
            failing = batch[min(failed):]
            if self.bisect and len(failed) == len(batch) and len(failing) > 1:
                half = len(failing) // 2  # splitting does not spend a retry
                pending.appendleft((failing[half:], retries, invokes))
                pending.appendleft((failing[:half], retries, invokes))
                continue
            if self.max_retries != -1 and retries >= self.max_retries:
                await self.discard(shard_id, failing, "RetryAttemptsExhausted", invokes)
                continue
            await asyncio.sleep(min(2.0, 0.1 * 2 ** retries))
            pending.appendleft((failing, retries + 1, invokes))

    async def drop_expired(self, shard_id: str, batch: list[dict[str, Any]], invokes: int) -> list[dict[str, Any]]:
        if self.max_age == -1:
            return batch
        now = self.platform.clock.now()
        expired = [r for r in batch if now - r["ApproximateArrivalTimestamp"] > self.max_age]
        if expired:
            await self.discard(shard_id, expired, "RecordAgeExceeded", invokes)
        return [r for r in batch if r not in expired]

    async def discard(self, shard_id: str, batch: list[dict[str, Any]], condition: str, invokes: int) -> None:
        """Describe records the pipe gives up on to its dead-letter queue or topic (if any)."""
        if not self.dead_letter:
            return
        document = dead_letter_document(self.runner.pipe, self.stream_arn, shard_id, batch, condition, invokes,
                                        self.platform.clock.now())
        arn = parse_arn(self.dead_letter)
        assert arn is not None
        try:
            if arn.service == "sqs":
                await self.platform.call("sqs", "SendMessage", {
                    "QueueUrl": f"{self.platform.settings.public_url}/{arn.account}/{arn.resource}",
                    "MessageBody": document}, region=arn.region, account_id=arn.account)
            else:
                await self.platform.call("sns", "Publish", {"TopicArn": arn.text, "Message": document},
                                         region=arn.region, account_id=arn.account)
        except AwsError as error:
            log.warning("pipe %s could not reach its dead-letter target: %s", self.runner.pipe["Name"], error)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dead_letter_document(pipe: dict[str, Any], stream_arn: str, shard_id: str, batch: list[dict[str, Any]],
                         condition: str, invokes: int, now: float) -> str:
    return json.dumps({
        "context": {"pipeArn": pipe["Arn"], "condition": condition, "approximateInvokeCount": invokes},
        "version": "1.0",
        "timestamp": _iso(now),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": batch[0]["SequenceNumber"],
            "endSequenceNumber": batch[-1]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(batch[0]["ApproximateArrivalTimestamp"]),
            "approximateArrivalOfLastRecord": _iso(batch[-1]["ApproximateArrivalTimestamp"]),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    })

"""Pollers that feed event source mappings: SQS queues (and Kinesis streams, see kinesis_poller).

The SQS poller receives through SQS's own operations (services/sources, shared with EventBridge
Pipes), invokes the function synchronously with AWS's `{"Records": [...]}` event, deletes what
succeeded and leaves failures to the queue's visibility timeout and redrive policy (so failed
batches come back and finally reach the queue's DLQ).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ids import new_uuid
from eventyard.services.lambda_.faults import mapping_resources
from eventyard.services.sources import queues, records

log = logging.getLogger(__name__)
DEFAULT_SQS_CONCURRENCY = 5


def compile_filters(config: dict[str, Any]) -> list[Any]:
    """A mapping's FilterCriteria compiled by the pattern engine (shared with EventBridge Pipes)."""
    return records.compile_filters(config.get("FilterCriteria"))


class SqsPoller:
    def __init__(self, provider: Any, key: str, config: dict[str, Any], region: str, account_id: str) -> None:
        self.provider = provider
        self.platform = provider.platform
        self.key = key
        self.config = config
        self.arn = config["EventSourceArn"]
        _, _, _, self.region, self.account, self.queue = self.arn.split(":", 5)
        self.function = config["FunctionArn"]
        limit = (config.get("ScalingConfig") or {}).get("MaximumConcurrency") or DEFAULT_SQS_CONCURRENCY
        self.slots = asyncio.Semaphore(limit)
        self.filters = compile_filters(config)
        self.tasks: set[asyncio.Task[None]] = set()

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self.platform.call("sqs", operation, params, region=self.region, account_id=self.account)

    async def run(self) -> None:
        try:
            url = (await self.call("GetQueueUrl", {"QueueName": self.queue,
                                                    "QueueOwnerAWSAccountId": self.account}))["QueueUrl"]
            while True:
                await self.slots.acquire()
                try:
                    batch = await self.receive(url)
                except AwsError as exc:
                    self.slots.release()
                    log.info("SQS poller %s: %s", self.key, exc)
                    await asyncio.sleep(2)
                    continue
                if not batch:
                    self.slots.release()
                    continue
                task = asyncio.get_running_loop().create_task(self.process(url, batch))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        finally:
            for task in self.tasks:
                task.cancel()

    async def receive(self, url: str) -> list[dict[str, Any]]:
        return await queues.receive_batch(self.call, url, self.config.get("BatchSize", 10),
                                          self.config.get("MaximumBatchingWindowInSeconds", 0))

    async def process(self, url: str, messages: list[dict[str, Any]]) -> None:
        from eventyard.services.lambda_.names import parse_ref
        from eventyard.services.lambda_.pool import Throttled

        try:
            batch = [records.sqs_record(m, self.arn, self.region) for m in messages]
            keep = [r for r in batch if records.passes(self.filters, r, "body")]
            dropped = [r for r in batch if r not in keep]
            if dropped:  # AWS deletes messages that no filter matches
                await self.delete(url, dropped)
            if not keep:
                return
            ref = parse_ref(self.function, self.region, self.account)
            trace = (messages[0].get("Attributes") or {}).get("AWSTraceHeader")
            try:
                event = json.dumps({"Records": keep}).encode()
                result = await self.platform.faults.esm_batch(mapping_resources(self.key, self.config), lambda: (
                    self.provider.run_invocation(ref.region, ref.account_id, ref.name, ref.qualifier, event, trace,
                                                 new_uuid())))
            except Throttled:
                return  # the messages come back after their visibility timeout
            if result.function_error:
                return
            failed = self.failed_ids(result.payload, keep)
            await self.delete(url, [r for r in keep if r["messageId"] not in failed])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("SQS poller %s failed a batch", self.key)
        finally:
            self.slots.release()

    def failed_ids(self, payload: bytes, batch: list[dict[str, Any]]) -> set[str]:
        """ReportBatchItemFailures: the ids the function reported; a malformed answer fails the batch."""
        if "ReportBatchItemFailures" not in (self.config.get("FunctionResponseTypes") or []):
            return set()
        return records.failed_identifiers(payload, [r["messageId"] for r in batch])

    async def delete(self, url: str, batch: list[dict[str, Any]]) -> None:
        await queues.delete_messages(self.call, url, [r["receiptHandle"] for r in batch])

"""Pollers that feed event source mappings: SQS queues (and Kinesis streams, see kinesis_poller).

The SQS poller receives through SQS's own operations, invokes the function synchronously with AWS's
`{"Records": [...]}` event, deletes what succeeded and leaves failures to the queue's visibility
timeout and redrive policy (so failed batches come back and finally reach the queue's DLQ).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ids import new_uuid

log = logging.getLogger(__name__)
DEFAULT_SQS_CONCURRENCY = 5


def compile_filters(config: dict[str, Any]) -> list[Any]:
    from eventyard.patterns import compile_event_pattern

    return [compile_event_pattern(f["Pattern"]) for f in (config.get("FilterCriteria") or {}).get("Filters") or []]


def passes(filters: list[Any], record: dict[str, Any], data_key: str) -> bool:
    """AWS matches filters on the record with its body/data parsed when it is JSON."""
    if not filters:
        return True
    view = dict(record)
    try:
        view[data_key] = json.loads(record[data_key])
    except (ValueError, TypeError):
        pass
    return any(f.matches(view) for f in filters)


def sqs_record(message: dict[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    attributes = {k: v for k, v in (message.get("Attributes") or {}).items()}
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        item: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            import base64

            item["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = item
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": attributes, "messageAttributes": message_attributes,
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": source_arn,
            "awsRegion": region}


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
        size = self.config.get("BatchSize", 10)
        window = self.config.get("MaximumBatchingWindowInSeconds", 0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        batch: list[dict[str, Any]] = []
        while len(batch) < size:
            wait = 1 if not batch else max(0, min(1, int(deadline - loop.time())))
            answer = await self.call("ReceiveMessage", {
                "QueueUrl": url, "MaxNumberOfMessages": min(10, size - len(batch)), "WaitTimeSeconds": wait,
                "AttributeNames": ["All"], "MessageAttributeNames": ["All"]})
            batch.extend(answer.get("Messages") or [])
            if not batch or loop.time() >= deadline:
                break
        return batch

    async def process(self, url: str, messages: list[dict[str, Any]]) -> None:
        from eventyard.services.lambda_.names import parse_ref
        from eventyard.services.lambda_.pool import Throttled

        try:
            records = [sqs_record(m, self.arn, self.region) for m in messages]
            keep = [r for r in records if passes(self.filters, r, "body")]
            dropped = [r for r in records if r not in keep]
            if dropped:  # AWS deletes messages that no filter matches
                await self.delete(url, dropped)
            if not keep:
                return
            ref = parse_ref(self.function, self.region, self.account)
            trace = (messages[0].get("Attributes") or {}).get("AWSTraceHeader")
            try:
                result = await self.provider.run_invocation(ref.region, ref.account_id, ref.name, ref.qualifier,
                                                            json.dumps({"Records": keep}).encode(), trace,
                                                            new_uuid())
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

    def failed_ids(self, payload: bytes, records: list[dict[str, Any]]) -> set[str]:
        """ReportBatchItemFailures: the ids the function reported; a malformed answer fails the batch."""
        if "ReportBatchItemFailures" not in (self.config.get("FunctionResponseTypes") or []):
            return set()
        try:
            document = json.loads(payload) if payload else None
        except ValueError:
            return {r["messageId"] for r in records}
        if not isinstance(document, dict) or not document.get("batchItemFailures"):
            return set()
        ids = set()
        known = {r["messageId"] for r in records}
        for item in document["batchItemFailures"]:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in known:
                return known  # AWS treats an invalid identifier as a failure of the whole batch
            ids.add(identifier)
        return ids

    async def delete(self, url: str, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start:start + 10]
            await self.call("DeleteMessageBatch", {"QueueUrl": url, "Entries": [
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)]})

"""Reading an SQS queue as AWS's pollers do, through SQS's own ReceiveMessage and DeleteMessageBatch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def receive_batch(call: Call, url: str, size: int, window: float) -> list[dict[str, Any]]:
    """Up to `size` messages: long-polls for the first, then gathers more until the batch is full or
    the batching window (seconds) has passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + window
    batch: list[dict[str, Any]] = []
    while len(batch) < size:
        wait = 1 if not batch else max(0, min(1, int(deadline - loop.time())))
        answer = await call("ReceiveMessage", {
            "QueueUrl": url, "MaxNumberOfMessages": min(10, size - len(batch)), "WaitTimeSeconds": wait,
            "AttributeNames": ["All"], "MessageAttributeNames": ["All"]})
        batch.extend(answer.get("Messages") or [])
        if not batch or loop.time() >= deadline:
            break
    return batch


async def delete_messages(call: Call, url: str, receipt_handles: list[str]) -> None:
    for start in range(0, len(receipt_handles), 10):
        chunk = receipt_handles[start:start + 10]
        await call("DeleteMessageBatch", {"QueueUrl": url, "Entries": [
            {"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(chunk)]})

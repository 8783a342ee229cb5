"""Walking a Kinesis stream's shards the way AWS's pollers do, through Kinesis's own operations.

One task per shard reads with GetShardIterator/GetRecords and hands each run of records to
`on_records`; the run's last sequence number is then checkpointed (`save`), so a restarted server
resumes after it. The shards there when the consumer starts begin at its starting position; shards
that appear later (children of a reshard) begin at their horizon, and a child is read only once its
parents are read to their end. LATEST is pinned to a timestamp when the consumer is created, so
records put right after, or while the server was down, are not skipped.

Subclasses (Lambda's event source mapping poller, a pipe's source) keep the checkpoint document
(`positions`/`save`) and decide what a run of records becomes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from eventyard.protocol.errors import AwsError

log = logging.getLogger(__name__)

IDLE_POLL = 0.25  # seconds between GetRecords calls on a shard that had nothing new
SHARD_REFRESH = 5.0  # how often the shard list is read again (resharding)
THROTTLE_WAIT = 0.5
MAX_RECORDS = 10000  # GetRecords' own limit


def starting_point(params: dict[str, Any], now: float) -> dict[str, Any]:
    """Where the shards there at creation begin. LATEST becomes the creation time (AT_TIMESTAMP)."""
    position = params.get("StartingPosition") or "TRIM_HORIZON"
    if position == "LATEST":
        return {"type": "AT_TIMESTAMP", "ts": now}
    if position == "AT_TIMESTAMP":
        return {"type": "AT_TIMESTAMP", "ts": float(params.get("StartingPositionTimestamp") or now)}
    return {"type": "TRIM_HORIZON"}


class ShardWalker:
    """Reads every shard of one stream; a subclass stores positions and handles records."""

    def __init__(self, platform: Any, stream_arn: str, *, batch_size: int, window: float, label: str) -> None:
        self.platform = platform
        self.stream_arn = stream_arn
        _, _, _, self.region, self.account, resource = stream_arn.split(":", 5)
        self.stream_name = resource.split("/", 1)[1]
        self.batch_size = batch_size
        self.window = window
        self.label = label
        self.shard_tasks: dict[str, asyncio.Task[None]] = {}
        self.done: set[str] = set()
        # Where the shards there at the start begin when the checkpoint names no "_start".
        self.default_start: dict[str, Any] = {"type": "TRIM_HORIZON"}

    # -- what a subclass provides ------------------------------------------------------------
    async def positions(self) -> dict[str, Any]:
        """The checkpoint document: shard id -> {"seq", "start", "done", ...}, plus "_listed"/"_start"."""
        raise NotImplementedError

    async def save(self, entry: str, update: Callable[[dict[str, Any]], None]) -> None:
        """Change one entry of the checkpoint document inside one transaction."""
        raise NotImplementedError

    async def on_records(self, shard_id: str, records: list[dict[str, Any]], state: dict[str, Any]) -> None:
        """Deliver a run of one shard's records; return once each is done or discarded. The walker
        checkpoints the run's last sequence number afterwards."""
        raise NotImplementedError

    async def on_idle(self, shard_id: str, state: dict[str, Any]) -> None:
        """Called when a read found nothing new (the shard is read up to now)."""

    async def on_shard_end(self, shard_id: str, state: dict[str, Any]) -> None:
        """Called once a closed shard is read to its end, before it is marked done."""

    async def checkpoint(self, shard_id: str, state: dict[str, Any]) -> None:
        """Record that the shard is done up to `state["seq"]`."""
        await self.save(shard_id, lambda entry: entry.update(seq=state["seq"]))

    def wanted(self) -> int:
        """How many records one read gathers."""
        return min(MAX_RECORDS, self.batch_size)

    # -- the shard set -----------------------------------------------------------------------
    async def kinesis(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self.platform.call("kinesis", operation, params, region=self.region, account_id=self.account)

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.refresh_shards()
                except AwsError as exc:
                    log.info("%s: %s", self.label, exc)
                await asyncio.sleep(SHARD_REFRESH)
        finally:
            for task in self.shard_tasks.values():
                task.cancel()
            await asyncio.gather(*self.shard_tasks.values(), return_exceptions=True)

    async def list_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        params: dict[str, Any] = {"StreamARN": self.stream_arn}
        while True:
            page = await self.kinesis("ListShards", params)
            shards.extend(page.get("Shards") or [])
            if not page.get("NextToken"):
                return shards
            params = {"NextToken": page["NextToken"]}

    async def refresh_shards(self) -> None:
        shards = await self.list_shards()
        positions = await self.positions()
        if not positions.get("_listed"):
            start = positions.get("_start") or self.default_start

            def begin(state: dict[str, Any]) -> None:
                state.setdefault("start", start)
            for shard in shards:
                await self.save(shard["ShardId"], begin)
            await self.save("_listed", lambda state: state.update(at=self.platform.clock.now()))
            positions = await self.positions()
        self.done |= {k for k, v in positions.items() if isinstance(v, dict) and v.get("done")}
        listed = {s["ShardId"] for s in shards}
        for shard in shards:
            shard_id = shard["ShardId"]
            task = self.shard_tasks.get(shard_id)
            if shard_id in self.done or (task is not None and not task.done()):
                continue
            parents = [p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId"))
                       if p and p in listed and p not in self.done]
            if parents:
                continue  # AWS finishes a parent before reading its children
            state = positions.get(shard_id) or {}
            self.shard_tasks[shard_id] = asyncio.get_running_loop().create_task(
                self.poll_shard(shard_id, state), name=f"{self.label}-{shard_id}")

    # -- one shard ---------------------------------------------------------------------------
    async def iterator(self, shard_id: str, state: dict[str, Any]) -> str:
        params: dict[str, Any] = {"StreamARN": self.stream_arn, "ShardId": shard_id}
        start = state.get("start") or {"type": "TRIM_HORIZON"}
        if state.get("seq"):
            params.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=state["seq"])
        elif start["type"] == "AT_TIMESTAMP":
            params.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=start["ts"])
        else:
            params["ShardIteratorType"] = start["type"]
        return str((await self.kinesis("GetShardIterator", params))["ShardIterator"])

    async def poll_shard(self, shard_id: str, state: dict[str, Any]) -> None:
        iterator: str | None = None
        while True:
            try:
                if iterator is None:
                    iterator = await self.iterator(shard_id, state)
                records, iterator = await self.fetch(iterator)
            except AwsError as exc:
                if exc.code != "ExpiredIteratorException":
                    log.info("%s on %s: %s", self.label, shard_id, exc)
                    await asyncio.sleep(THROTTLE_WAIT if "Throughput" in exc.code else 2.0)
                iterator = None
                continue
            if records:
                await self.on_records(shard_id, records, state)
                state["seq"] = records[-1]["SequenceNumber"]
                await self.checkpoint(shard_id, state)
            else:
                await self.on_idle(shard_id, state)
            if iterator is None:  # the shard is closed and read to its end
                await self.on_shard_end(shard_id, state)
                await self.save(shard_id, lambda s: s.update(done=True))
                self.done.add(shard_id)
                try:
                    await self.refresh_shards()  # its children may start now
                except AwsError as exc:
                    log.info("%s: %s", self.label, exc)
                return
            if not records:
                await asyncio.sleep(IDLE_POLL)

    async def fetch(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]:
        """Read up to `wanted()` records, waiting up to the batching window for more."""
        want = self.wanted()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window
        records: list[dict[str, Any]] = []
        next_iterator: str | None = iterator
        while next_iterator is not None:
            answer = await self.kinesis("GetRecords", {"ShardIterator": next_iterator, "Limit": want - len(records)})
            records.extend(answer.get("Records") or [])
            next_iterator = answer.get("NextShardIterator")
            remaining = deadline - loop.time()
            if len(records) >= want or not records or remaining <= 0:
                break
            await asyncio.sleep(min(IDLE_POLL, remaining))
        return records, next_iterator

"""The Kinesis event source mapping poller: one task per shard, reading through Kinesis's own
ListShards/GetShardIterator/GetRecords (the shard walk of sources/shards.py, shared with EventBridge
Pipes), invoking the function with AWS's `{"Records": [...]}` event.

What it reproduces from AWS:
- Per-shard order. A shard's records go out in sequence order; a failing batch blocks its shard
  until it succeeds or is discarded. ParallelizationFactor splits a shard into that many lanes by
  partition key (a key always lands in the same lane), so order per partition key holds.
- Function errors retry the same batch (MaximumRetryAttempts, -1 = until the records expire);
  BisectBatchOnFunctionError splits a failed batch in two without spending a retry; records older
  than MaximumRecordAgeInSeconds are discarded without being sent. Discarded batches are described
  to the OnFailure destination (SQS or SNS) with AWS's record (`KinesisBatchInfo`).
- ReportBatchItemFailures: the lowest reported sequence number is where the retry starts; an
  identifier that is missing or not in the batch fails the whole batch.
- Checkpoints (the last sequence number done, per shard) live in the mapping's row, so a restarted
  server resumes after them. LATEST is pinned to the mapping's creation time (AT_TIMESTAMP), so
  records put right after CreateEventSourceMapping, or while the server was down, are not skipped.
- A child shard (after a reshard) starts at its horizon once its parents are read to their end.
- TumblingWindowInSeconds (see tumbling.py): records go out window by window with the state the
  previous invocation returned; the window's final invocation follows when a record of a later
  window arrives, when the clock passes its end with the shard read up to now, or when the shard
  ends. The open window's state is checkpointed with the sequence number.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import tracing
from eventyard.runtime.ids import new_uuid
from eventyard.services.lambda_ import destinations, tumbling
from eventyard.services.lambda_.faults import mapping_resources
from eventyard.services.lambda_.names import parse_ref
from eventyard.services.lambda_.pollers import compile_filters
from eventyard.services.sources import records as source_records
from eventyard.services.sources.shards import MAX_RECORDS, THROTTLE_WAIT, ShardWalker
from eventyard.storage import Connection

log = logging.getLogger(__name__)



def kinesis_record(raw: dict[str, Any], shard_id: str, stream_arn: str, region: str, role: str) -> dict[str, Any]:
    """One entry of AWS's Kinesis event (the record shape EventBridge Pipes flattens)."""
    return {"kinesis": source_records.kinesis_data(raw),
            **source_records.kinesis_envelope(shard_id, raw["SequenceNumber"], stream_arn, region, role)}


def passes_kinesis_filters(filters: list[Any], raw: dict[str, Any]) -> bool:
    """AWS filters Kinesis records on the `data` key only, with the data parsed when it is JSON."""
    return source_records.passes_kinesis_data(filters, raw["Data"])


def failed_from(payload: bytes, batch: list[dict[str, Any]]) -> int | None:
    """ReportBatchItemFailures: the index the retry starts at, or None when the batch succeeded."""
    return source_records.first_failed_index(payload, [r["SequenceNumber"] for r in batch])


@dataclass
class Outcome:
    """What one invocation of a batch came to."""

    failed_at: int | None  # None: every record succeeded; else the first index to retry
    request_id: str
    version: str = "$LATEST"
    function_error: str | None = None
    state: dict[str, Any] | None = None  # a tumbling window's state the function returned


class KinesisPoller(ShardWalker):
    def __init__(self, provider: Any, key: str, config: dict[str, Any], region: str, account_id: str) -> None:
        # An enhanced fan-out consumer's ARN is its stream's ARN + "/consumer/<name>:<created>"; the
        # mapping reads that stream (with GetRecords: the records and their order are the stream's).
        super().__init__(provider.platform, config["EventSourceArn"].split("/consumer/", 1)[0],
                         batch_size=int(config.get("BatchSize") or 100),
                         window=float(config.get("MaximumBatchingWindowInSeconds") or 0), label=f"esm-{key}")
        self.provider = provider
        self.key = key
        self.config = config
        self.default_start = {"type": config.get("StartingPosition", "TRIM_HORIZON")}
        self.function = parse_ref(config["FunctionArn"], self.region, self.account)
        self.filters = compile_filters(config)
        self.tumbling = int(config.get("TumblingWindowInSeconds") or 0)
        # A window's state belongs to the shard, so a windowed shard is read as one lane.
        self.lanes = 1 if self.tumbling else max(1, int(config.get("ParallelizationFactor") or 1))
        self.bisect = bool(config.get("BisectBatchOnFunctionError"))
        self.max_retries = int(config.get("MaximumRetryAttempts", -1))
        self.max_age = int(config.get("MaximumRecordAgeInSeconds", -1))
        self.on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self.report_failures = "ReportBatchItemFailures" in (config.get("FunctionResponseTypes") or [])

    def wanted(self) -> int:
        return min(MAX_RECORDS, self.batch_size * self.lanes)

    # -- checkpoints -------------------------------------------------------------------------
    async def positions(self) -> dict[str, Any]:
        row = await self.platform.db.read(lambda c: c.execute(
            "SELECT position FROM lambda_event_source_mappings WHERE uuid=?", (self.key,)).fetchone())
        return json.loads(row["position"]) if row else {}

    async def save(self, entry: str, update: Callable[[dict[str, Any]], None]) -> None:
        """Change one key of the mapping's checkpoint document inside one transaction."""
        def run(conn: Connection) -> None:
            row = conn.execute("SELECT position FROM lambda_event_source_mappings WHERE uuid=?",
                               (self.key,)).fetchone()
            if row is None:
                return  # the mapping was deleted meanwhile
            document = json.loads(row["position"])
            state = document.setdefault(entry, {})
            update(state)
            conn.execute("UPDATE lambda_event_source_mappings SET position=? WHERE uuid=?",
                         (json.dumps(document), self.key))
        await self.platform.db.write(run)

    async def checkpoint(self, shard_id: str, state: dict[str, Any]) -> None:
        """Record a shard's progress (and its open tumbling window), and the mapping's
        LastProcessingResult in the same commit."""
        sequence, window = state["seq"], state.get("window")
        result = "OK" if state.pop("clean", True) else "PROBLEM: Function call failed"

        def run(conn: Connection) -> None:
            row = conn.execute("SELECT config, position FROM lambda_event_source_mappings WHERE uuid=?",
                               (self.key,)).fetchone()
            if row is None:
                return
            document = json.loads(row["position"])
            entry = document.setdefault(shard_id, {})
            entry["seq"] = sequence
            if window is not None:
                entry["window"] = window
            else:
                entry.pop("window", None)
            config = json.loads(row["config"])
            config["LastProcessingResult"] = result
            conn.execute("UPDATE lambda_event_source_mappings SET position=?, config=? WHERE uuid=?",
                         (json.dumps(document), json.dumps(config), self.key))
        await self.platform.db.write(run)

    # -- the shard walk's hooks (the walk itself is sources/shards.py, shared with Pipes) ---------
    async def on_records(self, shard_id: str, records: list[dict[str, Any]], state: dict[str, Any]) -> None:
        if self.tumbling:
            state["clean"] = await self.process_windows(shard_id, records, state)
        else:
            state["clean"] = await self.process(shard_id, records)

    async def on_idle(self, shard_id: str, state: dict[str, Any]) -> None:
        if state.get("window") and self.platform.clock.now() >= state["window"]["start"] + self.tumbling:
            await self.close_window(shard_id, state)  # read up to now: nothing more can join it

    async def on_shard_end(self, shard_id: str, state: dict[str, Any]) -> None:
        if state.get("window"):
            await self.close_window(shard_id, state)  # AWS: a shard's end closes its window

    async def process(self, shard_id: str, records: list[dict[str, Any]]) -> bool:
        """Deliver a run of a shard's records; returns when each is done or discarded (True when no
        invocation failed)."""
        kept = [r for r in records if passes_kinesis_filters(self.filters, r)]
        if self.lanes == 1:
            lanes = [kept]
        else:
            by_lane: list[list[dict[str, Any]]] = [[] for _ in range(self.lanes)]
            for record in kept:
                by_lane[_lane(record["PartitionKey"], self.lanes)].append(record)
            lanes = [lane for lane in by_lane if lane]
        return all(await asyncio.gather(*(self.deliver(shard_id, lane) for lane in lanes)))

    # -- tumbling windows -------------------------------------------------------------------
    async def process_windows(self, shard_id: str, records: list[dict[str, Any]], state: dict[str, Any]) -> bool:
        """Deliver records window by window; a record of a later window closes the open one first."""
        kept = [r for r in records if passes_kinesis_filters(self.filters, r)]
        clean = True
        for start, run in itertools.groupby(
                kept, key=lambda r: tumbling.window_start(r["ApproximateArrivalTimestamp"], self.tumbling)):
            if state.get("window") and state["window"]["start"] != start:
                await self.close_window(shard_id, state)
            if not state.get("window"):
                state["window"] = {"start": start, "state": {}}
            clean = await self.deliver(shard_id, list(run), state["window"]) and clean
        return clean

    async def close_window(self, shard_id: str, state: dict[str, Any], early: bool = False) -> None:
        """The final invocation of a window. AWS suspends the shard until it succeeds."""
        window = state["window"]
        attempt = 0
        while True:
            outcome = await self.invoke(shard_id, [], window, final=True, early=early)
            if outcome is not None and outcome.failed_at is None:
                break
            await asyncio.sleep(THROTTLE_WAIT if outcome is None else min(2.0, 0.1 * 2 ** attempt))
            attempt += outcome is not None
        if early:
            window["state"] = {}  # AWS: the same window goes on with a fresh state
            return
        state.pop("window", None)
        await self.save(shard_id, lambda s: s.pop("window", None))

    async def deliver(self, shard_id: str, records: list[dict[str, Any]],
                      window: dict[str, Any] | None = None) -> bool:
        pending: deque[tuple[list[dict[str, Any]], int, int]] = deque(
            (records[i:i + self.batch_size], 0, 0) for i in range(0, len(records), self.batch_size))
        clean = True
        while pending:
            batch, retries, invokes = pending.popleft()
            batch = await self.drop_expired(shard_id, batch, invokes)
            if not batch:
                continue
            outcome = await self.invoke(shard_id, batch, window)
            if window is not None and outcome is not None and outcome.state is not None:
                window["state"] = outcome.state
                if tumbling.too_big(outcome.state):
                    await self.close_window(shard_id, {"window": window}, early=True)
            if outcome is None:  # throttled or unavailable: not a function error, try again
                pending.appendleft((batch, retries, invokes))
                await asyncio.sleep(THROTTLE_WAIT)
                continue
            invokes += 1
            if outcome.failed_at is None:
                continue
            clean = False
            failing = batch[outcome.failed_at:]
            partial = outcome.failed_at > 0 or outcome.function_error is None
            if self.bisect and not partial and len(failing) > 1:
                half = len(failing) // 2  # splitting does not spend a retry
                pending.appendleft((failing[half:], retries, invokes))
                pending.appendleft((failing[:half], retries, invokes))
                continue
            if self.max_retries != -1 and retries >= self.max_retries:
                await self.discard(shard_id, failing, "RetryAttemptsExhausted", invokes, outcome)
                continue
            await asyncio.sleep(min(2.0, 0.1 * 2 ** retries))
            pending.appendleft((failing, retries + 1, invokes))
        return clean

    async def drop_expired(self, shard_id: str, batch: list[dict[str, Any]], invokes: int) -> list[dict[str, Any]]:
        if self.max_age == -1:
            return batch
        now = self.platform.clock.now()
        expired = [r for r in batch if now - r["ApproximateArrivalTimestamp"] > self.max_age]
        if expired:
            await self.discard(shard_id, expired, "RecordAgeExceeded", invokes, None)
        return [r for r in batch if r not in expired]

    async def _trace(self, batch: list[dict[str, Any]]) -> str | None:
        """The trace the batch's first record was written in (its PutRecord's hop), if it was traced."""
        if not batch:
            return None
        ref = tracing.record_ref(self.stream_arn, batch[0]["SequenceNumber"])
        return await self.platform.db.read(lambda conn: tracing.header_of_ref(conn, ref))

    async def invoke(self, shard_id: str, batch: list[dict[str, Any]], window: dict[str, Any] | None = None,
                     final: bool = False, early: bool = False) -> Outcome | None:
        from eventyard.services.lambda_ import functions
        from eventyard.services.lambda_.pool import Throttled

        ref = self.function
        request_id = new_uuid()
        try:
            resolved = await self.platform.db.read(lambda c: functions.resolve(c, ref, pick=False))
            role = resolved.config.get("Role", "")
            event: dict[str, Any] = {
                "Records": [kinesis_record(r, shard_id, self.stream_arn, self.region, role) for r in batch]}
            if window is not None:
                event.update(tumbling.event_fields(window, self.tumbling, shard_id, self.stream_arn, final, early))
            self.provider.metrics.iterator_age(ref.region, ref.account_id, ref.name, batch, self.platform.clock.now(),
                                               ref.qualifier)
            payload = json.dumps(event).encode()
            trace = await self._trace(batch)
            result = await self.platform.faults.esm_batch(mapping_resources(self.key, self.config), lambda: (
                self.provider.run_invocation(ref.region, ref.account_id, ref.name, ref.qualifier, payload, trace,
                                             request_id)))
        except Throttled:
            return None
        except AwsError as exc:  # e.g. the function was deleted: AWS keeps retrying, records stay
            log.info("Kinesis poller %s cannot invoke %s: %s", self.key, ref.name, exc)
            await asyncio.sleep(2.0)
            return None
        if result.function_error:
            return Outcome(0, result.request_id, result.version, result.function_error)
        state = tumbling.returned_state(result.payload) if window is not None else None
        if window is not None and state is None:
            return Outcome(0, result.request_id, result.version, None)  # AWS: no `state` is a failure
        failed_at = failed_from(result.payload, batch) if self.report_failures and batch else None
        return Outcome(failed_at, result.request_id, result.version, None, state)

    async def discard(self, shard_id: str, batch: list[dict[str, Any]], condition: str, invokes: int,
                      outcome: Outcome | None) -> None:
        if not self.on_failure:
            return  # AWS skips the records; without a destination nothing remembers them
        now = self.platform.clock.now()
        document: dict[str, Any] = {
            "requestContext": {"requestId": outcome.request_id if outcome else new_uuid(),
                               "functionArn": self.config["FunctionArn"], "condition": condition,
                               "approximateInvokeCount": invokes},
            "version": "1.0",
            "timestamp": destinations.iso(now),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": destinations.iso(batch[0]["ApproximateArrivalTimestamp"]),
                "approximateArrivalOfLastRecord": destinations.iso(batch[-1]["ApproximateArrivalTimestamp"]),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        if outcome is not None:
            # AWS records functionError as null when the function answered but the batch failed on
            # its batchItemFailures report.
            document["responseContext"] = {"statusCode": 200, "executedVersion": outcome.version,
                                           "functionError": outcome.function_error}
        try:
            await destinations.send(self.platform, self.on_failure, document, False)
        except AwsError as exc:
            log.warning("Kinesis poller %s could not reach its OnFailure destination: %s", self.key, exc)


def _lane(partition_key: str, lanes: int) -> int:
    return source_records.lane(partition_key, lanes)

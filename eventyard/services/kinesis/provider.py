"""Kinesis operations: each maps its request onto the domain modules inside one storage call."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventyard.protocol.errors import AwsError
from eventyard.protocol.models import service_model
from eventyard.protocol.validation import Violation, coral_message
from eventyard.runtime.faults import resource_names
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.kinesis import access, consumers, names, records, shards, subscribe, trace_hops
from eventyard.services.kinesis import metrics as kinesis_metrics
from eventyard.services.kinesis import streams as stream_store
from eventyard.services.kinesis.iterators import (
    ShardIterator,
    decode_iterator,
    decode_next_token,
    encode_iterator,
    encode_next_token,
)
from eventyard.services.kinesis.records import Entry
from eventyard.services.kinesis.streams import Stream, StreamKey
from eventyard.services.kinesis.throughput import ShardThroughput
from eventyard.storage import Connection

T = TypeVar("T")
# How long CREATING/UPDATING/DELETING last. AWS takes tens of seconds; a local stream is ready at once,
# but still goes through the transitions clients and waiters expect.
DEFAULT_TRANSITION_SECONDS = 0.5
SWEEP_INTERVAL = 10.0


class KinesisProvider(Provider):
    unsupported_error_code = "UnknownOperationException"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.transition = float(os.environ.get("EVENTYARD_KINESIS_TRANSITION_SECONDS", DEFAULT_TRANSITION_SECONDS))
        self._waiters: dict[int, set[asyncio.Future[None]]] = {}
        self._event_shape = service_model("kinesis").shape_for("SubscribeToShardEvent")
        enforce = os.environ.get("EVENTYARD_KINESIS_ENFORCE_THROUGHPUT", "").lower() in {"1", "true", "yes", "on"}
        self.throughput = ShardThroughput() if enforce else None

    # -- plumbing --------------------------------------------------------------------------
    def now(self) -> float:
        return float(self.platform.clock.now())

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        await access.authorize(self.platform, ctx, operation, params)

    def _key(self, ctx: RequestContext, params: dict[str, Any]) -> StreamKey:
        return stream_store.key_from_params(params, ctx.region, ctx.account_id)

    async def _write(self, fn: Callable[[Connection, float], T]) -> T:
        now = self.now()
        return await self.platform.db.write(lambda conn: fn(conn, now))

    async def start(self) -> None:
        self.platform.timers.register(stream_store.SETTLE_TIMER, self._settle,
                                      RetryPolicy(max_attempts=10, base_delay=0.5))
        self.platform.supervisor.every("kinesis:retention", SWEEP_INTERVAL,
                                        self.platform.leases.once("kinesis:retention", self._sweep))

    async def _settle(self, timer: Timer) -> None:
        now = self.now()
        if "stream_id" in timer.payload:
            await self.platform.db.write(lambda conn: stream_store.settle_by_id(conn, timer.payload["stream_id"], now))
        if "consumer_id" in timer.payload:
            await self.platform.db.write(lambda conn: consumers.settle_by_id(conn, timer.payload["consumer_id"], now))

    async def _sweep(self) -> None:
        now = self.now()
        await self.platform.db.write(lambda conn: records.sweep_expired(conn, now))

    def _notify(self, stream_id: int) -> None:
        for waiter in self._waiters.pop(stream_id, set()):
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_records(self, stream_id: int, timeout: float) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(stream_id, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.get(stream_id, set()).discard(waiter)

    # -- streams ---------------------------------------------------------------------------
    async def create_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = StreamKey(ctx.account_id, ctx.region, params["StreamName"])
        # Neither a mode nor a shard count: an on-demand stream (recorded against AWS: four shards).
        default_mode = "PROVISIONED" if params.get("ShardCount") is not None else "ON_DEMAND"
        mode = params.get("StreamModeDetails", {}).get("StreamMode", default_mode)
        await self._write(lambda conn, now: stream_store.create(
            conn, key, params.get("ShardCount"), mode, params.get("Tags", {}),
            params.get("MaxRecordSizeInKiB", 1024), now, self.transition))
        self.platform.timers.wake()

    async def delete_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)
        await self._write(lambda conn, now: stream_store.delete(
            conn, key, params.get("EnforceConsumerDeletion", False), now, self.transition))
        self.platform.timers.wake()

    async def describe_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self._key(ctx, params)
        limit = params.get("Limit", 100)
        start = params.get("ExclusiveStartShardId")

        def run(conn: Connection, now: float) -> dict[str, Any]:
            stream = stream_store.get(conn, key, now)
            listed = shards.visible(shards.all_shards(conn, stream), stream, now)
            if start is not None:
                after = names.shard_index(start)
                listed = [s for s in listed if after is None or s.index > after]
            summary = stream_store.summary(conn, stream)
            description: dict[str, Any] = {k: summary[k] for k in ("StreamName", "StreamARN", "StreamStatus", "StreamModeDetails",
                                                   "RetentionPeriodHours", "StreamCreationTimestamp",
                                                   "EnhancedMonitoring", "EncryptionType") if k in summary}
            if stream.key_id:
                description["KeyId"] = stream.key_id
            description["Shards"] = [s.view() for s in listed[:limit]]
            description["HasMoreShards"] = len(listed) > limit
            return {"StreamDescription": description}

        return await self._write(run)

    async def describe_stream_summary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self._key(ctx, params)
        return await self._write(lambda conn, now: {
            "StreamDescriptionSummary": stream_store.summary(conn, stream_store.get(conn, key, now))})

    async def list_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit", 100)
        after = params.get("ExclusiveStartStreamName")
        token = params.get("NextToken")
        if token is not None:
            after = decode_next_token("streams", token, self.now())["after"]
        found = await self._write(lambda conn, now: stream_store.list_streams(
            conn, ctx.account_id, ctx.region, after, limit, now))
        page = found.items
        result: dict[str, Any] = {
            "StreamNames": [s.name for s in page], "HasMoreStreams": found.last is not None,
            "StreamSummaries": [{"StreamName": s.name, "StreamARN": s.arn, "StreamStatus": s.status,
                                 "StreamModeDetails": stream_store.mode_details(s),
                                 "StreamCreationTimestamp": s.created_at} for s in page],
        }
        if found.last is not None:
            result["NextToken"] = encode_next_token("streams", {"after": found.last[0]}, self.now())
        return result

    async def list_shards(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("NextToken")
        now = self.now()
        if token is not None:
            if params.get("StreamName") is not None or params.get("StreamARN") is not None:
                raise AwsError("InvalidArgumentException",
                               "NextToken and StreamName cannot be provided together.")
            state = decode_next_token("shards", token, now)
            key = StreamKey(state["account"], state["region"], state["name"])
            after, shard_filter = state["after"], state.get("filter")
        else:
            key = self._key(ctx, params)
            start = params.get("ExclusiveStartShardId")
            after = names.shard_index(start) if start is not None else None
            shard_filter = params.get("ShardFilter")
            if shard_filter is not None and start is not None:
                raise AwsError("InvalidArgumentException",
                               "ShardFilter and ExclusiveStartShardId cannot be provided together.")
        limit = min(params.get("MaxResults", 1000), 1000)

        def run(conn: Connection, now: float) -> tuple[Stream, list[shards.Shard]]:
            stream = stream_store.get(conn, key, now)
            listed = shards.visible(shards.all_shards(conn, stream), stream, now)
            listed = shards.apply_filter(listed, stream, shard_filter, now)
            return stream, [s for s in listed if after is None or s.index > after]

        stream, listed = await self._write(run)
        page = listed[:limit]
        result: dict[str, Any] = {"Shards": [s.view() for s in page]}
        if len(listed) > limit:
            result["NextToken"] = encode_next_token("shards", {
                "account": stream.account_id, "region": stream.region, "name": stream.name,
                "after": page[-1].index, "filter": shard_filter}, now)
        return result

    async def increase_stream_retention_period(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._retention(ctx, params, increase=True)

    async def decrease_stream_retention_period(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._retention(ctx, params, increase=False)

    async def _retention(self, ctx: RequestContext, params: dict[str, Any], increase: bool) -> None:
        key = self._key(ctx, params)
        await self._write(lambda conn, now: stream_store.set_retention(
            conn, key, params["RetentionPeriodHours"], increase, now, self.transition))
        self.platform.timers.wake()

    async def start_stream_encryption(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)
        await self._write(lambda conn, now: stream_store.set_encryption(
            conn, key, params["EncryptionType"], params["KeyId"], now, self.transition))
        self.platform.timers.wake()

    async def stop_stream_encryption(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)
        await self._write(lambda conn, now: stream_store.set_encryption(conn, key, "NONE", None, now, self.transition))
        self.platform.timers.wake()

    async def enable_enhanced_monitoring(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._monitoring(ctx, params, enable=True)

    async def disable_enhanced_monitoring(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._monitoring(ctx, params, enable=False)

    async def _monitoring(self, ctx: RequestContext, params: dict[str, Any], enable: bool) -> dict[str, Any]:
        key = self._key(ctx, params)
        stream, current, desired = await self._write(lambda conn, now: stream_store.set_metrics(
            conn, key, params["ShardLevelMetrics"], enable, now))
        return {"StreamName": stream.name, "StreamARN": stream.arn, "CurrentShardLevelMetrics": current,
                "DesiredShardLevelMetrics": desired}

    async def update_stream_mode(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)
        mode = params["StreamModeDetails"]["StreamMode"]
        await self._write(lambda conn, now: stream_store.set_mode(conn, key, mode, now, self.transition))
        self.platform.timers.wake()

    async def update_max_record_size(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)
        await self._write(lambda conn, now: stream_store.set_max_record_size(
            conn, key, params["MaxRecordSizeInKiB"], now))

    async def describe_limits(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection, now: float) -> dict[str, Any]:
            return {"ShardLimit": stream_store.SHARD_LIMIT,
                    "OpenShardCount": stream_store.open_shard_count(conn, ctx.account_id, ctx.region),
                    "OnDemandStreamCount": stream_store.on_demand_count(conn, ctx.account_id, ctx.region),
                    "OnDemandStreamCountLimit": stream_store.ON_DEMAND_STREAM_LIMIT}
        return await self._write(run)

    # -- resource policies (evaluated for other accounts' callers: access.py) -----------------
    def _policy_key(self, ctx: RequestContext, arn: str) -> StreamKey:
        if "/consumer/" in arn:
            region, account, stream_name, _ = names.parse_consumer_arn(arn)
            return StreamKey(account, region, stream_name)
        return stream_store.key_from_params({"StreamARN": arn}, ctx.region, ctx.account_id)

    async def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._policy_key(ctx, params["ResourceARN"])
        await self._write(lambda conn, now: stream_store.set_policy(conn, key, params["Policy"], now))

    async def get_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self._policy_key(ctx, params["ResourceARN"])
        return {"Policy": await self._write(lambda conn, now: stream_store.get_policy(conn, key, now))}

    async def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._policy_key(ctx, params["ResourceARN"])
        await self._write(lambda conn, now: stream_store.set_policy(conn, key, None, now))

    # -- tags ------------------------------------------------------------------------------
    async def add_tags_to_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)
        await self._write(lambda conn, now: stream_store.add_tags(conn, key, params["Tags"], now))

    async def remove_tags_from_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)
        await self._write(lambda conn, now: stream_store.remove_tags(conn, key, params["TagKeys"], now))

    async def list_tags_for_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self._key(ctx, params)
        stream = await self._write(lambda conn, now: stream_store.get(conn, key, now))
        start = params.get("ExclusiveStartTagKey")
        limit = params.get("Limit", 50)
        keys = sorted(k for k in stream.tags if start is None or k > start)
        return {"Tags": [{"Key": k, "Value": stream.tags[k]} for k in keys[:limit]], "HasMoreTags": len(keys) > limit}

    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._tag(ctx, params["ResourceARN"], lambda tags: {**tags, **params["Tags"]})

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        removed = set(params["TagKeys"])
        await self._tag(ctx, params["ResourceARN"], lambda tags: {k: v for k, v in tags.items() if k not in removed})

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = await self._tag(ctx, params["ResourceARN"], None)
        return {"Tags": [{"Key": k, "Value": tags[k]} for k in sorted(tags)]}

    async def _tag(self, ctx: RequestContext, arn: str,
                   change: Callable[[dict[str, str]], dict[str, str]] | None) -> dict[str, str]:
        """Tags of a stream or a consumer, by ARN (TagResource and friends accept either)."""
        def run(conn: Connection, now: float) -> dict[str, str]:
            if "/consumer/" in arn:
                _, consumer = consumers.locate(conn, {"ConsumerARN": arn}, ctx.region, ctx.account_id, now)
                tags = consumer.tags if change is None else change(consumer.tags)
                if change is not None:
                    consumers.set_tags(conn, consumer, tags)
                return tags
            key = stream_store.key_from_params({"StreamARN": arn}, ctx.region, ctx.account_id)
            stream = stream_store.get(conn, key, now)
            if change is None:
                return stream.tags
            tags = change(stream.tags)
            if len(tags) > stream_store.MAX_TAGS:
                raise stream_store.too_many_tags(stream.name, stream.account_id)
            stream_store.remove_tags(conn, key, list(stream.tags), now)
            stream_store.add_tags(conn, key, tags, now)
            return tags

        return await self._write(run)

    # -- resharding ------------------------------------------------------------------------
    async def split_shard(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)

        def run(conn: Connection, now: float) -> None:
            stream = stream_store.get_active(conn, key, now)
            shard = shards.get(conn, stream, params["ShardToSplit"])
            stream_store.check_shard_limit(conn, stream.account_id, stream.region, 1)
            shards.split(conn, stream, shard, int(params["NewStartingHashKey"]), now)
            stream_store.begin_transition(conn, stream, "UPDATING", now, self.transition)

        await self._write(run)
        self.platform.timers.wake()

    async def merge_shards(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        key = self._key(ctx, params)

        def run(conn: Connection, now: float) -> None:
            stream = stream_store.get_active(conn, key, now)
            shard = shards.get(conn, stream, params["ShardToMerge"])
            adjacent = shards.get(conn, stream, params["AdjacentShardToMerge"])
            shards.merge(conn, stream, shard, adjacent, now)
            stream_store.begin_transition(conn, stream, "UPDATING", now, self.transition)

        await self._write(run)
        self.platform.timers.wake()

    async def update_shard_count(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self._key(ctx, params)
        target = params["TargetShardCount"]

        def run(conn: Connection, now: float) -> dict[str, Any]:
            stream = stream_store.get_active(conn, key, now)
            if stream.mode == "ON_DEMAND":
                raise AwsError("ValidationException", "UpdateShardCount is not supported for streams in ON_DEMAND "
                               "capacity mode.")
            current = len(shards.open_shards(conn, stream))
            where = f"UpdateShardCount failed for stream {stream.name} under account {stream.account_id}."
            if target > 2 * current:
                raise AwsError("LimitExceededException", f"{where} Cannot scale up above double the current open "
                               f"shard count of {current} to {target}.")
            if 2 * target < current:
                raise AwsError("LimitExceededException", f"{where} Cannot scale down below half the current open "
                               f"shard count of {current} to {target}.")
            if target == current:
                raise AwsError("InvalidArgumentException", f"{where} Stream already has {current} open shards.")
            stream_store.check_shard_limit(conn, stream.account_id, stream.region, max(0, target - current))
            shards.scale_uniformly(conn, stream, target, now)
            stream_store.begin_transition(conn, stream, "UPDATING", now, self.transition)
            return {"StreamName": stream.name, "StreamARN": stream.arn, "CurrentShardCount": current,
                    "TargetShardCount": target}

        result = await self._write(run)
        self.platform.timers.wake()
        return result

    # -- records ---------------------------------------------------------------------------
    async def put_record(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()  # PutRecord.Latency: the operation's own time, not the clock's
        key = self._key(ctx, params)
        entry = Entry(params["Data"], params["PartitionKey"], params.get("ExplicitHashKey"))
        stored, _ = self._duplicated(key, "PutRecord", [entry])

        def run(conn: Connection, now: float) -> tuple[Stream, dict[str, Any]]:
            stream = stream_store.get_readable(conn, key, now)
            records.check_entries(stream, [entry], batch=False)
            stored_results = records.put(conn, stream, stored, now, self.throughput)
            trace_hops.put(conn, stream, stored_results, ctx.trace_header, now, "PutRecord")
            return stream, stored_results[0]

        stream, result = await self._write(run)
        kinesis_metrics.put(self.platform.metrics, stream, [len(entry.data)], [result], False,
                            (time.perf_counter() - started) * 1000)
        if "ErrorCode" in result:
            raise AwsError(result["ErrorCode"], result["ErrorMessage"])
        self._notify(stream.id)
        return {**result, "EncryptionType": stream.encryption_type}

    async def put_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        key = self._key(ctx, params)
        missing = [i for i, r in enumerate(params["Records"], 1) if r.get("PartitionKey") is None]
        if missing:  # the current model leaves it optional; the service still needs it
            raise AwsError("ValidationException", coral_message([
                Violation(f"records.{i}.member.partitionKey", "PartitionKey", None, "Member must not be null")
                for i in missing]))
        entries = [Entry(r["Data"], r["PartitionKey"], r.get("ExplicitHashKey")) for r in params["Records"]]
        stored, originals = self._duplicated(key, "PutRecords", entries)

        def run(conn: Connection, now: float) -> tuple[Stream, list[dict[str, Any]]]:
            stream = stream_store.get_readable(conn, key, now)
            records.check_entries(stream, entries, batch=True)
            results = records.put(conn, stream, stored, now, self.throughput)
            trace_hops.put(conn, stream, results, ctx.trace_header, now, "PutRecords")
            return stream, [results[n] for n in originals]

        stream, results = await self._write(run)
        self._notify(stream.id)
        failed = sum(1 for r in results if "ErrorCode" in r)
        kinesis_metrics.put(self.platform.metrics, stream, [len(e.data) for e in entries], results, True,
                            (time.perf_counter() - started) * 1000)
        return {"FailedRecordCount": failed, "Records": results, "EncryptionType": stream.encryption_type}

    def _duplicated(self, key: StreamKey, operation: str, entries: list[Entry]) -> tuple[list[Entry], list[int]]:
        """The entries to store: a `duplicate` rule (/_eventyard/faults) stores some twice, as a producer's
        retry after a lost answer does; the client hears of the originals only."""
        arn = names.stream_arn(key.region, key.account_id, key.name)
        return self.platform.faults.with_duplicates("kinesis", resource_names(arn), operation, entries)

    async def get_shard_iterator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self._key(ctx, params)

        def run(conn: Connection, now: float) -> str:
            stream = stream_store.get_readable(conn, key, now)
            return records.shard_iterator(conn, stream, params["ShardId"], params["ShardIteratorType"],
                                          params.get("StartingSequenceNumber"), params.get("Timestamp"), now)

        return {"ShardIterator": await self._write(run)}

    async def get_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        started, now = time.perf_counter(), self.now()
        iterator = decode_iterator(params["ShardIterator"], now)
        limit = params.get("Limit", 10000)

        def run(conn: Connection, now: float) -> records.Batch:
            row = conn.execute("SELECT * FROM kinesis_streams WHERE id = ?", (iterator.stream_id,)).fetchone()
            stream = None if row is None else stream_store.settle(conn, row, now)
            if stream is None or stream.status not in ("ACTIVE", "UPDATING"):
                raise AwsError("ResourceNotFoundException", "Shard iterator refers to a stream that does not exist.")
            if params.get("StreamARN") is not None and params["StreamARN"] != stream.arn:
                raise AwsError("InvalidArgumentException", f"Shard iterator does not belong to {params['StreamARN']}.")
            shard = shards.get(conn, stream, names.shard_id(iterator.shard_index))
            read_from.append(stream)
            return records.read(conn, stream, shard, iterator.position, limit, now)

        read_from: list[Stream] = []
        batch = await self._write(run)
        kinesis_metrics.got(self.platform.metrics, read_from[-1], names.shard_id(iterator.shard_index), batch.records,
                            now, (time.perf_counter() - started) * 1000)
        result: dict[str, Any] = {"Records": batch.records, "MillisBehindLatest": batch.millis_behind_latest}
        if batch.next_position is not None:
            result["NextShardIterator"] = encode_iterator(
                ShardIterator(iterator.stream_id, iterator.shard_index, batch.next_position, now))
        if batch.child_shards is not None:
            result["ChildShards"] = batch.child_shards
        return result

    # -- enhanced fan-out ------------------------------------------------------------------
    async def register_stream_consumer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = stream_store.key_from_params({"StreamARN": params["StreamARN"]}, ctx.region, ctx.account_id)

        def run(conn: Connection, now: float) -> consumers.Consumer:
            stream = stream_store.get(conn, key, now)
            return consumers.register(conn, stream, params["ConsumerName"], params.get("Tags", {}), now,
                                      self.transition)

        consumer = await self._write(run)
        self.platform.timers.wake()
        return {"Consumer": consumer.view()}

    async def describe_stream_consumer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream, consumer = await self._write(lambda conn, now: consumers.locate(
            conn, params, ctx.region, ctx.account_id, now))
        return {"ConsumerDescription": {**consumer.view(), "StreamARN": stream.arn}}

    async def deregister_stream_consumer(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(conn: Connection, now: float) -> None:
            _, consumer = consumers.locate(conn, params, ctx.region, ctx.account_id, now)
            consumers.deregister(conn, consumer, now, self.transition)

        await self._write(run)
        self.platform.timers.wake()

    async def list_stream_consumers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = stream_store.key_from_params({"StreamARN": params["StreamARN"]}, ctx.region, ctx.account_id)
        limit = params.get("MaxResults", 100)
        after = None
        if params.get("NextToken") is not None:
            after = tuple(decode_next_token("consumers", params["NextToken"], self.now())["after"])
        # A stream has at most 20 consumers: they are read whole and paged by (creation time, id).
        listed = await self._write(lambda conn, now: consumers.list_for(conn, stream_store.get(conn, key, now), now))
        found = paging.page(paging.after_key(listed, consumers.Consumer.order_key), consumers.Consumer.order_key,
                            limit, after)
        result: dict[str, Any] = {"Consumers": [c.view() for c in found.items]}
        if found.last is not None:
            result["NextToken"] = encode_next_token("consumers", {"after": list(found.last)}, self.now())
        return result

    async def subscribe_to_shard(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        position_spec = params["StartingPosition"]

        def run(conn: Connection, now: float) -> tuple[Stream, str, int, int]:
            stream, consumer = consumers.locate(conn, {"ConsumerARN": params["ConsumerARN"]}, ctx.region,
                                                ctx.account_id, now)
            if consumer.status != "ACTIVE":
                raise AwsError("ResourceInUseException", f"Consumer {consumer.arn} is not in ACTIVE state.")
            if stream.status not in ("ACTIVE", "UPDATING"):
                raise stream.not_found()
            shard = shards.get(conn, stream, params["ShardId"])
            position = records.iterator_position(conn, stream, shard, position_spec["Type"],
                                                 position_spec.get("SequenceNumber"), position_spec.get("Timestamp"))
            return stream, consumer.name, shard.index, position

        stream, consumer_name, shard_index, position = await self._write(run)
        kinesis_metrics.subscribed(self.platform.metrics, stream, consumer_name)
        events = subscribe.events(self.platform.db.read, self._wait_for_records, self.platform.clock,
                                  self._event_shape, stream.id, shard_index, position,
                                  lambda batch: kinesis_metrics.pushed(self.platform.metrics, stream, consumer_name,
                                                                       batch.records, batch.millis_behind_latest))
        return {"EventStream": events}

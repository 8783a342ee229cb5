"""Event source mappings: their configuration (CRUD, states, UUIDs) and one poller task per enabled
mapping. Pollers read the source through its own operations (platform.call), as AWS's pollers do.

With shared storage (several nodes), a mapping is polled by the one node that holds its lease
(`lambda:esm:<uuid>`): each node looks every few seconds for enabled mappings nobody holds, takes
them, and stops polling the ones whose lease it lost; when a node dies, its mappings are taken over
once its lease expires, and the new owner resumes from the stored checkpoints."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import functions, tagging
from eventyard.services.lambda_.kinesis_poller import KinesisPoller
from eventyard.services.lambda_.names import function_arn, parse_ref
from eventyard.services.lambda_.pollers import SqsPoller
from eventyard.storage import Connection, Row

log = logging.getLogger(__name__)


def poller_for(provider: Any, key: str, config: dict[str, Any], region: str, account_id: str) -> Any:
    kind = config["EventSourceArn"].split(":")[2]
    if kind == "sqs":
        return SqsPoller(provider, key, config, region, account_id)
    if kind == "kinesis" and "kinesis" in provider.platform.services:
        return KinesisPoller(provider, key, config, region, account_id)
    return None


def _not_found(uuid_text: str) -> AwsError:
    return AwsError("ResourceNotFoundException", "The resource you requested does not exist.", 404)


LEASE_PREFIX = "lambda:esm:"
OWNERSHIP_RECHECK = 2.0  # seconds between looks for mappings without an owner (shared storage)
ACTIVE_STATES = {"Enabled", "Enabling", "Creating", "Updating"}


class EsmRunner:
    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self.platform = provider.platform
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._configs: dict[str, str] = {}  # mapping -> the config its running poller was started with
        self._ownership_changed = asyncio.Event()

    async def start(self) -> None:
        if self.platform.db.shared:
            self.platform.supervisor.loop("lambda:esm-ownership", self._take_ownership, OWNERSHIP_RECHECK,
                                          wake=self._ownership_changed)
            return
        rows = await self.platform.db.read(lambda c: c.execute(
            "SELECT * FROM lambda_event_source_mappings").fetchall())
        for row in rows:
            self._sync(row["uuid"], json.loads(row["config"]), row["region"], row["account_id"])

    async def _take_ownership(self) -> None:
        """Poll the enabled mappings this node holds or can take; stop the others (shared storage)."""
        rows = await self.platform.db.read(lambda c: c.execute(
            "SELECT uuid, config, region, account_id FROM lambda_event_source_mappings").fetchall())
        others = await self.platform.leases.taken_by_others(LEASE_PREFIX)
        wanted: set[str] = set()
        for row in rows:
            key, config = row["uuid"], json.loads(row["config"])
            name = LEASE_PREFIX + key
            if config.get("State") not in ACTIVE_STATES or name in others:
                continue
            if await self.platform.leases.hold(name):
                wanted.add(key)
                if key not in self.tasks or self._configs.get(key) != row["config"]:
                    self._run_poller(key, config, row["region"], row["account_id"])
                    self._configs[key] = row["config"]
        for key in set(self.tasks) - wanted:
            self._stop_poller(key)
            self._configs.pop(key, None)
            if LEASE_PREFIX + key in self.platform.leases.held:
                await self.platform.leases.release(LEASE_PREFIX + key)

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self.tasks.clear()

    def _sync(self, key: str, config: dict[str, Any], region: str, account_id: str) -> None:
        if self.platform.db.shared:  # the ownership loop starts, restarts or stops it, on whichever node owns it
            self._ownership_changed.set()
            return
        self._stop_poller(key)
        if config.get("State") in ACTIVE_STATES:
            self._run_poller(key, config, region, account_id)

    def _run_poller(self, key: str, config: dict[str, Any], region: str, account_id: str) -> None:
        self._stop_poller(key)
        poller = poller_for(self.provider, key, config, region, account_id)
        if poller is not None:
            self.tasks[key] = self.provider.platform.supervisor.job(f"lambda:esm-{key}", poller.run)

    async def _check_function(self, ref: Any) -> None:
        """AWS checks the function before the source (its own words, not GetFunction's)."""
        try:
            await self.platform.db.read(lambda conn: functions.resolve(conn, ref, pick=False))
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":
                raise AwsError("InvalidParameterValueException", "Function does not exist") from exc
            raise

    def _stop_poller(self, key: str) -> None:
        task = self.tasks.pop(key, None)
        if task is not None:
            task.cancel()

    # -- operations --------------------------------------------------------------------------
    async def create(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source = params.get("EventSourceArn", "")
        if not source:
            raise AwsError("InvalidParameterValueException", "Unrecognized event source.")
        kind = source.split(":")[2] if source.count(":") >= 5 else ""
        if kind not in {"sqs", "kinesis"}:
            raise AwsError("InvalidParameterValueException",
                           "Unrecognized event source, must be SQS or Kinesis in Eventyard.")
        if kind == "sqs" and params.get("DestinationConfig"):  # AWS: queues keep failures in their own DLQ
            raise AwsError("InvalidParameterValueException",
                           "Unsupported DestinationConfig parameter for given event source mapping type.")
        if kind == "kinesis" and not params.get("StartingPosition"):
            raise AwsError("InvalidParameterValueException", "1 validation error detected: Value null at "
                           "'startingPosition' failed to satisfy constraint: Member must not be null.")
        ref = parse_ref(params["FunctionName"], ctx.region, ctx.account_id)
        await self._check_function(ref)
        batch = params.get("BatchSize", 10 if kind == "sqs" else 100)
        window = params.get("MaximumBatchingWindowInSeconds", 0)
        if kind == "sqs":
            _check_sqs_batching(batch, window)
        if params.get("FilterCriteria"):
            _check_filters(params["FilterCriteria"])
        tagging.check_count(params.get("Tags") or {})
        key = str(uuid.uuid4())
        now = self.platform.clock.now()
        config: dict[str, Any] = {
            "UUID": key, "EventSourceArn": source, "BatchSize": batch,
            "MaximumBatchingWindowInSeconds": window,
            "FunctionArn": function_arn(ref.region, ref.account_id, ref.name, ref.qualifier),
            "LastModified": now,
            "State": "Creating" if params.get("Enabled", True) else "Disabled",
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": params.get("FunctionResponseTypes", []),
            "EventSourceMappingArn": f"arn:aws:lambda:{ctx.region}:{ctx.account_id}:event-source-mapping:{key}",
        }
        for k in ("FilterCriteria", "ScalingConfig", "StartingPosition", "StartingPositionTimestamp",
                  "DestinationConfig"):
            if params.get(k) is not None:
                config[k] = params[k]
        position: dict[str, Any] = {}
        if kind == "sqs":
            await _check_queue(self.platform, source)
        if kind == "kinesis":
            config["LastProcessingResult"] = "No records processed"  # AWS: stream sources only
            config["StateTransitionReason"] = "User action"  # AWS's wording for stream sources
            await _check_stream(self.platform, source)
            _check_stream_limits(params)
            position["_start"] = _starting_point(params, now)
            config.update({"ParallelizationFactor": params.get("ParallelizationFactor", 1),
                           "BisectBatchOnFunctionError": params.get("BisectBatchOnFunctionError", False),
                           "MaximumRetryAttempts": params.get("MaximumRetryAttempts", -1),
                           "MaximumRecordAgeInSeconds": params.get("MaximumRecordAgeInSeconds", -1),
                           "TumblingWindowInSeconds": params.get("TumblingWindowInSeconds", 0),
                           "DestinationConfig": params.get("DestinationConfig") or {"OnFailure": {}}})
        stored = dict(config, State="Enabled" if config["State"] == "Creating" else "Disabled")

        def run(conn: Connection) -> None:
            functions.resolve(conn, ref, pick=False)
            if kind in ("kinesis", "sqs"):
                _refuse_duplicate(conn, ctx.account_id, ctx.region, ref.name, source, kind)
            conn.execute("INSERT INTO lambda_event_source_mappings (uuid, account_id, region, function_name, config,"
                         " position, created_at) VALUES (?,?,?,?,?,?,?)", (
                             key, ctx.account_id, ctx.region, ref.name, json.dumps(stored), json.dumps(position), now))
            if params.get("Tags"):
                tagging.write(conn, tagging.Target("event-source-mapping", config["EventSourceMappingArn"]),
                              params["Tags"])
        await self.platform.db.write(run)
        self._sync(key, stored, ctx.region, ctx.account_id)
        return config  # AWS answers "Creating"; the mapping is "Enabled" right after

    async def _row(self, key: str) -> Row:
        row = await self.platform.db.read(lambda c: c.execute(
            "SELECT * FROM lambda_event_source_mappings WHERE uuid=?", (key,)).fetchone())
        if row is None:
            raise _not_found(key)
        return row

    async def get(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return json.loads((await self._row(params["UUID"]))["config"])

    async def list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rows = await self.platform.db.read(lambda c: c.execute(
            "SELECT * FROM lambda_event_source_mappings WHERE account_id=? AND region=? ORDER BY created_at, uuid",
            (ctx.account_id, ctx.region)).fetchall())
        items = [json.loads(r["config"]) for r in rows]
        if params.get("EventSourceArn"):
            items = [i for i in items if i["EventSourceArn"] == params["EventSourceArn"]]
        if params.get("FunctionName"):
            name = parse_ref(params["FunctionName"], ctx.region, ctx.account_id).name
            items = [i for i in items if i["FunctionArn"].split(":")[6] == name]
        return {"EventSourceMappings": items}

    async def update(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = await self._row(params["UUID"])
        config = json.loads(row["config"])
        for k in ("BatchSize", "MaximumBatchingWindowInSeconds", "FilterCriteria", "ScalingConfig",
                  "FunctionResponseTypes", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
                  "MaximumRecordAgeInSeconds", "ParallelizationFactor", "DestinationConfig",
                  "TumblingWindowInSeconds"):
            if k in params:
                config[k] = params[k]
        if params.get("FilterCriteria"):
            _check_filters(params["FilterCriteria"])
        if config["EventSourceArn"].split(":")[2] == "sqs":
            _check_sqs_batching(config["BatchSize"], config.get("MaximumBatchingWindowInSeconds", 0))
        if params.get("FunctionName"):
            ref = parse_ref(params["FunctionName"], ctx.region, ctx.account_id)
            config["FunctionArn"] = function_arn(ref.region, ref.account_id, ref.name, ref.qualifier)
        answer_state = config["State"]
        if "Enabled" in params:
            answer_state = "Enabling" if params["Enabled"] else "Disabling"
            config["State"] = "Enabled" if params["Enabled"] else "Disabled"
        config["LastModified"] = self.platform.clock.now()
        await self.platform.db.write(lambda c: c.execute(
            "UPDATE lambda_event_source_mappings SET config=? WHERE uuid=?", (json.dumps(config), params["UUID"])))
        self._sync(params["UUID"], config, row["region"], row["account_id"])
        return dict(config, State=answer_state if "Enabled" in params else "Updating")

    async def delete(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = await self._row(params["UUID"])
        arn = json.loads(row["config"]).get("EventSourceMappingArn", "")

        def run(conn: Connection) -> None:
            conn.execute("DELETE FROM lambda_event_source_mappings WHERE uuid=?", (params["UUID"],))
            tagging.forget(conn, arn)
        await self.platform.db.write(run)
        self._stop_poller(params["UUID"])
        self._ownership_changed.set()
        return dict(json.loads(row["config"]), State="Deleting")


def _check_sqs_batching(batch: int, window: int) -> None:
    if batch > 10 and window < 1:
        raise AwsError("InvalidParameterValueException",
                       "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")


def _check_filters(criteria: dict[str, Any]) -> None:
    from eventyard.patterns import InvalidPattern, compile_event_pattern

    for item in criteria.get("Filters") or []:
        try:
            compile_event_pattern(item.get("Pattern", ""))
        except InvalidPattern as exc:
            # AWS names no reason
            raise AwsError("InvalidParameterValueException", "Invalid filter pattern definition.") from exc


def _refuse_duplicate(conn: Connection, account: str, region: str, function: str, source: str, kind: str) -> None:
    """AWS: one mapping per stream or queue and function, refused in words that differ by source (recorded)."""
    for row in conn.execute("SELECT uuid, config FROM lambda_event_source_mappings WHERE account_id=? AND region=?"
                            " AND function_name=?", (account, region, function)).fetchall():
        if json.loads(row["config"])["EventSourceArn"] == source:
            which = (f'An event source mapping with SQS arn (" {source} ") and function (" {function} ") already '
                     "exists." if kind == "sqs" else
                     f'The event source arn (" {source} ") and function (" {function} ") provided mapping already '
                     "exists.")
            raise AwsError("ResourceConflictException",
                           f"{which} Please update or delete the existing mapping with UUID {row['uuid']}", 409)


async def _check_queue(platform: Any, arn: str) -> None:
    """AWS reads the queue when the mapping is created and answers SQS's error in its own words."""
    _, _, _, region, account, name = arn.split(":", 5)
    try:
        await platform.call("sqs", "GetQueueUrl", {"QueueName": name, "QueueOwnerAWSAccountId": account},
                            region=region, account_id=account)
    except AwsError as exc:
        if exc.code in {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"}:
            raise AwsError("InvalidParameterValueException",
                           "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue."
                           " SQS Error Message: The specified queue does not exist.") from exc
        raise


async def _check_stream(platform: Any, arn: str) -> None:
    """The stream, or the enhanced fan-out consumer (`.../stream/<name>/consumer/<name>:<ts>`), must exist."""
    consumer = "/consumer/" in arn
    operation, params = (("DescribeStreamConsumer", {"ConsumerARN": arn}) if consumer
                         else ("DescribeStreamSummary", {"StreamARN": arn}))
    try:
        await platform.call("kinesis", operation, params, region=arn.split(":")[3], account_id=arn.split(":")[4])
    except AwsError as exc:
        if exc.code in {"ResourceNotFoundException", "InvalidArgumentException"}:
            raise AwsError("InvalidParameterValueException",
                           f"{'Stream consumer' if consumer else 'Stream'} not found: {arn}") from exc
        raise


def _check_stream_limits(params: dict[str, Any]) -> None:
    age = params.get("MaximumRecordAgeInSeconds")
    if age is not None and age != -1 and not 60 <= age <= 604800:
        raise AwsError("InvalidParameterValueException",
                       "MaximumRecordAgeInSeconds must be -1 or between 60 and 604800 seconds.")
    if params.get("StartingPosition") == "AT_TIMESTAMP" and params.get("StartingPositionTimestamp") is None:
        raise AwsError("InvalidParameterValueException",
                       "StartingPositionTimestamp must be provided when StartingPosition is AT_TIMESTAMP.")


def _starting_point(params: dict[str, Any], now: float) -> dict[str, Any]:
    """Where a new stream mapping starts. LATEST means "what arrives from now on", so it is pinned to
    the creation time: records put before the poller's first read are not skipped."""
    position = params["StartingPosition"]
    if position == "LATEST":
        return {"type": "AT_TIMESTAMP", "ts": int(now * 1000) / 1000}
    if position == "AT_TIMESTAMP":
        stamp = params["StartingPositionTimestamp"]
        return {"type": "AT_TIMESTAMP", "ts": stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)}
    return {"type": "TRIM_HORIZON"}

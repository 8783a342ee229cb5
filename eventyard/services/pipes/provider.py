"""EventBridge Pipes operations, the pipe's state transitions, and the runners of RUNNING pipes.

A change (create, update, start, stop, delete) commits the pipe in its transitional state (CREATING,
UPDATING, STARTING, STOPPING, DELETING) with a durable timer; when the timer fires the pipe settles
in its desired state (or CREATE_FAILED/UPDATE_FAILED/START_FAILED with the reason when its source or
role cannot be used). Each pipe carries a generation, so a timer of a superseded change does nothing.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.cross_account import refuse_other_accounts
from eventyard.services.pipes import config, store
from eventyard.services.pipes.errors import already_exists, in_transition, not_found, tagged_resource_not_found
from eventyard.services.pipes.runner import PipeRunner
from eventyard.services.sources.shards import starting_point
from eventyard.storage import Connection

SETTLE_TIMER = "pipes.settle"
TRANSITION_SECONDS = 1.0  # how long a pipe stays CREATING, STARTING, ... (AWS: up to a minute)
TRANSITIONAL = {"CREATING", "UPDATING", "STARTING", "STOPPING", "DELETING"}
FAILED_BY_STATE = {"CREATING": "CREATE_FAILED", "UPDATING": "UPDATE_FAILED", "STARTING": "START_FAILED"}
SUMMARY = ("Arn", "Name", "DesiredState", "CurrentState", "CreationTime", "LastModifiedTime")


def _summary(pipe: dict[str, Any]) -> dict[str, Any]:
    return {k: pipe[k] for k in SUMMARY if k in pipe}


class PipesProvider(Provider):
    unsupported_error_code = "UnknownOperationException"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.runners: dict[str, asyncio.Task[None]] = {}

    def now(self) -> float:
        return float(self.platform.clock.now())

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        """Pipes have no resource policy: another account's are never reachable by ARN."""
        refuse_other_accounts(ctx, f"pipes:{operation}", params, ("resourceArn",),
                              lambda message: AwsError("AccessDeniedException", message, 403))

    async def start(self) -> None:
        self.platform.timers.register(SETTLE_TIMER, self._settle, RetryPolicy(max_attempts=10))
        for _, _, pipe in await self.platform.db.read(store.everywhere):
            self._sync_runner(pipe)

    async def stop(self) -> None:
        for task in self.runners.values():
            task.cancel()
        await asyncio.gather(*self.runners.values(), return_exceptions=True)
        self.runners.clear()

    def _sync_runner(self, pipe: dict[str, Any] | None, arn: str | None = None) -> None:
        """Run the pipe's poller exactly while the pipe is RUNNING."""
        key = pipe["Arn"] if pipe else arn
        assert key is not None
        running = pipe is not None and pipe["CurrentState"] == "RUNNING"
        task = self.runners.get(key)
        if running and (task is None or task.done()):
            assert pipe is not None
            runner = PipeRunner(self.platform, pipe)
            self.runners[key] = self.platform.supervisor.job(f"pipes:{key.split(':', 3)[3]}", runner.run)
        elif not running and task is not None:
            task.cancel()
            self.runners.pop(key, None)

    async def _change(self, ctx: RequestContext, name: str, change: Any) -> dict[str, Any]:
        """Apply `change(pipe)` to a settled pipe, move it to its transitional state and book its timer."""
        now = self.now()

        def run(conn: Connection) -> dict[str, Any]:
            pipe = store.get(conn, ctx.account_id, ctx.region, name)
            if pipe is None:
                raise not_found(name)
            if pipe["CurrentState"] in TRANSITIONAL:
                raise in_transition(name, pipe["CurrentState"])
            change(pipe)
            pipe["LastModifiedTime"] = now
            generation = store.save(conn, pipe)
            timers.schedule(conn, SETTLE_TIMER, {"arn": pipe["Arn"], "generation": generation},
                            now + TRANSITION_SECONDS, now)
            return pipe

        pipe = await self.platform.db.write(run)
        self._sync_runner(pipe)
        self.platform.timers.wake()
        return pipe

    # -- operations ----------------------------------------------------------------------
    async def create_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        kind = config.source_kind(params["Source"])
        source_parameters = config.source_parameters(kind, params.get("SourceParameters"))
        pipe: dict[str, Any] = {
            "Arn": store.pipe_arn(ctx.account_id, ctx.region, name), "Name": name,
            "DesiredState": params.get("DesiredState") or "RUNNING", "CurrentState": "CREATING",
            "Source": params["Source"], "SourceParameters": source_parameters, "Target": params["Target"],
            "RoleArn": params["RoleArn"],
        }
        _apply_definition(pipe, params, kind)
        now = self.now()
        pipe["CreationTime"] = pipe["LastModifiedTime"] = now
        positions = {}
        if kind == "kinesis":
            positions["_start"] = starting_point(source_parameters["KinesisStreamParameters"], now)

        def run(conn: Connection) -> None:
            if store.get(conn, ctx.account_id, ctx.region, name) is not None:
                raise already_exists(name)
            store.insert(conn, ctx.account_id, ctx.region, pipe, params.get("Tags") or {}, positions, now)
            timers.schedule(conn, SETTLE_TIMER, {"arn": pipe["Arn"], "generation": 1}, now + TRANSITION_SECONDS, now)

        await self.platform.db.write(run)
        self.platform.timers.wake()
        return _summary(pipe)

    async def describe_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]

        def run(conn: Connection) -> dict[str, Any]:
            pipe = store.get(conn, ctx.account_id, ctx.region, name)
            if pipe is None:
                raise not_found(name)
            return dict(store.public(pipe), Tags=store.tags(conn, pipe["Arn"]) or {})

        return dict(await self.platform.db.read(run))

    async def list_pipes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pipes = await self.platform.db.read(lambda conn: store.list_all(conn, ctx.account_id, ctx.region))
        wanted = [
            p for p in pipes
            if p["Name"].startswith(params.get("NamePrefix") or "")
            and p["Source"].startswith(params.get("SourcePrefix") or "")
            and p["Target"].startswith(params.get("TargetPrefix") or "")
            and params.get("DesiredState") in (None, p["DesiredState"])
            and params.get("CurrentState") in (None, p["CurrentState"])
        ]
        found = paging.in_memory(wanted, params.get("NextToken"), params.get("Limit") or 100, "pipes:list",
                                 lambda _: AwsError("ValidationException", "Invalid NextToken."))
        keys = ("Name", "Arn", "DesiredState", "CurrentState", "StateReason", "CreationTime", "LastModifiedTime",
                "Source", "Target", "Enrichment")
        return paging.answer(found, "Pipes", lambda p: {k: p[k] for k in keys if p.get(k) not in (None, "")})

    async def update_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        current = await self.describe_pipe(ctx, {"Name": name})
        kind = config.source_kind(current["Source"])
        merged = _merged_source_parameters(current.get("SourceParameters") or {}, params.get("SourceParameters"))
        source_parameters = config.source_parameters(kind, merged)
        updated = copy.deepcopy(current)
        updated["SourceParameters"] = source_parameters
        updated["RoleArn"] = params["RoleArn"]
        for key in ("Description", "DesiredState", "KmsKeyIdentifier", "Target"):
            if key in params:
                updated[key] = params[key]
        for key in ("Enrichment", "EnrichmentParameters", "TargetParameters", "LogConfiguration"):
            if key in params:
                updated[key] = params[key]
        _apply_definition(updated, updated, kind)

        def change(pipe: dict[str, Any]) -> None:
            for key in list(pipe):
                if key not in updated and not key.startswith("_"):
                    pipe.pop(key)
            pipe.update({k: v for k, v in updated.items() if k not in {"Tags", "CurrentState", "StateReason"}})
            pipe.pop("StateReason", None)
            pipe["CurrentState"] = "UPDATING"

        return _summary(await self._change(ctx, name, change))

    async def start_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def change(pipe: dict[str, Any]) -> None:
            pipe.update(DesiredState="RUNNING", CurrentState="STARTING")
            pipe.pop("StateReason", None)

        return _summary(await self._change(ctx, params["Name"], change))

    async def stop_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def change(pipe: dict[str, Any]) -> None:
            pipe.update(DesiredState="STOPPED", CurrentState="STOPPING")
            pipe.pop("StateReason", None)

        return _summary(await self._change(ctx, params["Name"], change))

    async def delete_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return _summary(await self._change(ctx, params["Name"], lambda pipe: pipe.update(
            DesiredState="DELETED", CurrentState="DELETING")))

    # -- tags ----------------------------------------------------------------------------
    async def _tags(self, arn: str, change: Any) -> dict[str, str]:
        def run(conn: Connection) -> dict[str, str]:
            tags = store.tags(conn, arn)
            if tags is None:
                raise tagged_resource_not_found(arn)
            if change is not None:
                change(tags)
                store.set_tags(conn, arn, tags)
            return tags

        return dict(await (self.platform.db.write(run) if change else self.platform.db.read(run)))

    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await self._tags(params["resourceArn"], lambda tags: tags.update(params["tags"]))
        return {}

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def remove(tags: dict[str, str]) -> None:
            for key in params["tagKeys"]:
                tags.pop(key, None)

        await self._tags(params["resourceArn"], remove)
        return {}

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": await self._tags(params["resourceArn"], None)}

    # -- transitions ---------------------------------------------------------------------
    async def _settle(self, timer: Timer) -> None:
        arn, generation = timer.payload["arn"], int(timer.payload["generation"])
        found = await self.platform.db.read(lambda conn: store.by_arn(conn, arn))
        if found is None or found[1] != generation:
            return  # deleted, or changed again: a later timer settles it
        pipe = found[0]
        problem = await self._unusable(pipe) if pipe["CurrentState"] in FAILED_BY_STATE else None

        def run(conn: Connection) -> dict[str, Any] | None:
            current = store.by_arn(conn, arn)
            if current is None or current[1] != generation:
                return None
            settled = current[0]
            if settled["CurrentState"] == "DELETING":
                store.delete(conn, arn)
                return None
            if problem is not None:
                settled.update(CurrentState=FAILED_BY_STATE[settled["CurrentState"]], StateReason=problem)
            else:
                settled["CurrentState"] = settled["DesiredState"]
            store.save(conn, settled, bump=False)
            return settled

        settled = await self.platform.db.write(run)
        self._sync_runner(settled, arn)

    async def _unusable(self, pipe: dict[str, Any]) -> str | None:
        """Why the pipe cannot run (its source is missing, its role does not exist), or None."""
        source = config.parse_arn(pipe["Source"])
        assert source is not None
        try:
            if source.service == "sqs":
                await self.platform.call("sqs", "GetQueueUrl", {"QueueName": source.resource,
                                                                "QueueOwnerAWSAccountId": source.account},
                                         region=source.region, account_id=source.account)
            else:
                await self.platform.call("kinesis", "DescribeStreamSummary", {"StreamARN": source.text},
                                         region=source.region, account_id=source.account)
        except AwsError as error:
            return f"The source {source.text} cannot be read: {error.message or error.code}"
        if "iam" in self.platform.services:
            role = pipe["RoleArn"].split(":role/", 1)[-1].rsplit("/", 1)[-1]
            try:
                await self.platform.call("iam", "GetRole", {"RoleName": role}, region=source.region)
            except AwsError as error:
                return f"The role {pipe['RoleArn']} cannot be assumed: {error.message or error.code}"
        return None


def _apply_definition(pipe: dict[str, Any], params: dict[str, Any], kind: str) -> None:
    """Check and set the enrichment, target, logging and optional members of a pipe."""
    target_kind = config.target_kind(params["Target"])
    batch = config.batch_size(kind, pipe["SourceParameters"])
    pipe["Target"] = params["Target"]
    pipe["TargetParameters"] = config.target_parameters(target_kind, params.get("TargetParameters"), batch)
    enrichment = params.get("Enrichment")
    if enrichment:
        pipe["Enrichment"] = enrichment
        pipe["EnrichmentParameters"] = config.enrichment_parameters(config.enrichment_kind(enrichment),
                                                                   params.get("EnrichmentParameters"))
    else:
        pipe.pop("Enrichment", None)
        pipe.pop("EnrichmentParameters", None)
    logging = config.log_configuration(params.get("LogConfiguration"))
    if logging:
        pipe["LogConfiguration"] = logging
    else:
        pipe.pop("LogConfiguration", None)
    for key in ("Description", "KmsKeyIdentifier"):
        if params.get(key):
            pipe[key] = params[key]


def _merged_source_parameters(current: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    """UpdatePipe replaces each source-specific object whole; a Kinesis source keeps where it started."""
    merged = copy.deepcopy(current)
    for key, value in (given or {}).items():
        if key == "KinesisStreamParameters":
            kept = {k: v for k, v in (current.get(key) or {}).items()
                    if k in {"StartingPosition", "StartingPositionTimestamp"}}
            merged[key] = {**value, **kept}
        else:
            merged[key] = value
    return merged

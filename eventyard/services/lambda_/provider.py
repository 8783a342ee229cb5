"""Lambda operations: thin mappings onto functions/code/pool/async_invoke, each write in one commit."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import tracing
from eventyard.runtime.ports import LOG_AGENT, AgentLogs
from eventyard.runtime.timers import RetryPolicy
from eventyard.services.base import Provider, RequestContext
from eventyard.services.iam.trust import service_may_assume
from eventyard.services.lambda_ import (
    access,
    async_invoke,
    concurrency,
    faults,
    functions,
    invocation_trace,
    payload_errors,
    provisioned,
    runtimes,
    tagging,
)
from eventyard.services.lambda_.code import resolve_code
from eventyard.services.lambda_.code_signing import CodeSigningOperations
from eventyard.services.lambda_.concurrency import ConcurrencyOperations
from eventyard.services.lambda_.errors import SilentAccessDenied
from eventyard.services.lambda_.event_invoke_configs import EventInvokeConfigOperations
from eventyard.services.lambda_.function_urls import FunctionUrlOperations, delete_for
from eventyard.services.lambda_.functions import LATEST, Resolved
from eventyard.services.lambda_.layers import LayerOperations
from eventyard.services.lambda_.metrics import LambdaMetrics
from eventyard.services.lambda_.names import FunctionRef, function_arn, last_modified, layer_arn, parse_ref
from eventyard.services.lambda_.policy_operations import PolicyOperations
from eventyard.services.lambda_.pool import REAP_INTERVAL, InvokeResult, WorkerPool
from eventyard.services.lambda_.provisioned import ProvisionedConcurrencyOperations
from eventyard.services.lambda_.recursion import RecursionOperations
from eventyard.services.lambda_.role_credentials import RoleCredentials
from eventyard.storage import Connection

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 1024 * 1024
log = logging.getLogger(__name__)
DEFAULT_MAX_WORKERS = int(os.environ.get("EVENTYARD_LAMBDA_MAX_WORKERS", "10"))


class LambdaProvider(FunctionUrlOperations, LayerOperations, CodeSigningOperations, RecursionOperations,
                     EventInvokeConfigOperations, ConcurrencyOperations, ProvisionedConcurrencyOperations,
                     PolicyOperations, Provider):
    unsupported_error_code = "UnknownOperationException"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        # Every node must reach a function's code: a shared directory when nodes are on several hosts.
        root = platform.settings.lambda_dir or Path(platform.settings.data_dir) / "lambda"
        self.code_root = root / "code"
        self.local_code_root = platform.settings.lambda_code_root  # the local-directory mode's folders
        self.layer_root = root / "layers"
        self.pool = WorkerPool(DEFAULT_MAX_WORKERS, platform.settings.local_url, self.layer_root)
        self.pool.credentials = RoleCredentials(platform)  # each environment runs as its role's session
        self._pending_logs: list[AgentLogs] = []
        self._pending_hops: list[tracing.Hop] = []
        self.metrics = LambdaMetrics(platform, self.pool)
        self._log_flush: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.code_root.mkdir(parents=True, exist_ok=True)
        self.layer_root.mkdir(parents=True, exist_ok=True)
        self.platform.timers.register(async_invoke.KIND, self._run_async_event,
                                      RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=60.0))
        self.platform.supervisor.every("lambda:reaper", REAP_INTERVAL, self.pool.reap)
        from eventyard.services.lambda_.esm import EsmRunner

        self.esm = EsmRunner(self)
        await self.esm.start()

    async def stop(self) -> None:
        if hasattr(self, "esm"):
            await self.esm.stop()
        await self.pool.close()
        await self.flush_logs()

    def now(self) -> float:
        return self.platform.clock.now()

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        await access.authorize(self.platform, ctx, operation, params)

    async def check_role(self, ctx: RequestContext, role_arn: str) -> None:
        """AWS refuses an execution role that does not exist or does not trust lambda.amazonaws.com."""
        if not await service_may_assume(self.platform, role_arn, "lambda.amazonaws.com", ctx.region):
            raise AwsError("InvalidParameterValueException", "The role defined for the function cannot be assumed "
                                                             "by Lambda.")

    def ref(self, ctx: RequestContext, params: dict[str, Any], key: str = "FunctionName") -> FunctionRef:
        return parse_ref(params[key], ctx.region, ctx.account_id, params.get("Qualifier"))

    # -- functions ---------------------------------------------------------------------------
    async def create_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        if ref.account_id != ctx.account_id:  # no function is created in another account
            raise SilentAccessDenied()
        if len(ref.name) > functions.MAX_NAME:
            raise AwsError("InvalidParameterValueException", f"1 validation error detected: Value '{ref.name}' at "
                           f"'functionName' failed to satisfy constraint: Member must have length less than or equal "
                           f"to {functions.MAX_NAME}")
        tagging.check_count(params.get("Tags") or {})
        if params.get("PackageType") == "Image":
            raise AwsError("InvalidParameterValueException", "Eventyard runs zip packages only (PackageType Zip).")
        runtimes.check(params.get("Runtime"))
        await self.check_role(ctx, params["Role"])
        code = await asyncio.to_thread(resolve_code, self.code_root, params["Code"], self.local_code_root)
        now = self.now()

        def run(conn: Connection) -> dict[str, Any]:
            layers = self._layers(conn, params.get("Layers") or [], ref.region)
            code["layers"] = [layer["LayerVersionArn"] for layer in layers]
            code["layers_dir"] = self._layers_dir(layers)
            config = functions.build_config(ref.region, ref.account_id, ref.name, params, code, layers, now)
            functions.insert(conn, ref, config, code, params.get("Tags") or {}, now)
            version = functions.publish_version(conn, ref, None, now)["Version"] if params.get("Publish") else None
            return functions.creating_view(config, version)

        return await self.platform.db.write(run)

    async def get_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)

        def run(conn: Connection) -> dict[str, Any]:
            resolved = functions.resolve(conn, ref, pick=False)
            meta = functions.meta(conn, ref)
            out: dict[str, Any] = {"Configuration": _as_asked(ref, resolved.config),
                                   "Code": {"RepositoryType": "S3", "Location": f"file://{resolved.code['dir']}"}}
            tags = json.loads(meta["tags"])
            if tags:  # AWS leaves Tags out when there are none
                out["Tags"] = tags
            if meta["reserved_concurrency"] is not None:
                out["Concurrency"] = {"ReservedConcurrentExecutions": meta["reserved_concurrency"]}
            return out

        return await self.platform.db.read(run)

    async def get_function_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        return _as_asked(ref, (await self.platform.db.read(lambda c: functions.resolve(c, ref, pick=False))).config)

    async def list_functions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> list[dict[str, Any]]:
            latest = functions.list_latest(conn, ctx.region, ctx.account_id)
            if params.get("FunctionVersion") != "ALL":
                return [{**functions.listed(c), "FunctionArn": c["FunctionArn"]} for c in latest]
            out: list[dict[str, Any]] = []
            for config in latest:
                out.extend(functions.listed(c) for c in functions.list_versions(
                    conn, FunctionRef(config["FunctionName"], None, ctx.region, ctx.account_id)))
            return out

        items = await self.platform.db.read(run)
        return _page(items, params.get("Marker"), params.get("MaxItems", 50), "Functions", "NextMarker")

    async def delete_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)

        def run(conn: Connection) -> None:
            functions.delete(conn, ref)
            if not ref.qualifier:
                delete_for(conn, ref.account_id, ref.region, ref.name)
        await self.platform.db.write(run)
        if not ref.qualifier:
            self.pool.retire(function_arn(ref.region, ref.account_id, ref.name))
        return {"StatusCode": 204}

    async def update_function_code(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        source = {k: params[k] for k in ("ZipFile", "S3Bucket", "S3Key", "ImageUri") if params.get(k) is not None}
        code = await asyncio.to_thread(resolve_code, self.code_root, source, self.local_code_root)
        now = self.now()

        def run(conn: Connection) -> dict[str, Any]:
            current = functions.get_version(conn, ref, LATEST)
            code["layers"] = current.code.get("layers", [])
            code["layers_dir"] = current.code.get("layers_dir", "")
            config = functions.update_latest(conn, ref, {}, code, now, params.get("RevisionId"))
            if params.get("Publish"):
                return functions.published_view(functions.publish_version(conn, ref, None, now))
            return functions.updating_view(config)

        return await self.platform.db.write(run)

    async def update_function_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        now = self.now()
        runtimes.check(params.get("Runtime"))
        if "Role" in params:
            await self.check_role(ctx, params["Role"])
        if params.get("Environment") is not None:
            functions.check_environment(params["Environment"].get("Variables"))
        changes = {k: params[k] for k in functions.CONFIG_KEYS if k in params and k != "Layers"}
        if "Environment" in changes:
            changes["Environment"] = {"Variables": changes["Environment"].get("Variables", {})}

        def run(conn: Connection) -> dict[str, Any]:
            code = None
            if "Layers" in params:
                layers = self._layers(conn, params["Layers"], ref.region)
                current = functions.get_version(conn, ref, LATEST)
                code = dict(current.code, layers=[x["LayerVersionArn"] for x in layers],
                            layers_dir=self._layers_dir(layers))
                changes["Layers"] = [{"Arn": x["LayerVersionArn"], "CodeSize": x["Content"]["CodeSize"]}
                                     for x in layers]
            return functions.updating_view(functions.update_latest(conn, ref, changes, code, now,
                                                                   params.get("RevisionId")))

        return await self.platform.db.write(run)

    async def publish_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        now = self.now()
        expected = {k: params.get(k) for k in ("RevisionId", "CodeSha256")}
        return await self.platform.db.write(lambda c: functions.publish_version(c, ref, params.get("Description"), now,
                                                                                expected))

    async def list_versions_by_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        items = [functions.listed(c) for c in await self.platform.db.read(lambda c: functions.list_versions(c, ref))]
        return _page(items, params.get("Marker"), params.get("MaxItems", 50), "Versions", "NextMarker")

    # -- aliases -----------------------------------------------------------------------------
    async def create_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        return await self.platform.db.write(lambda c: functions.put_alias(c, ref, params["Name"], params, True))

    async def update_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        return await self.platform.db.write(lambda c: functions.put_alias(c, ref, params["Name"], params, False))

    async def get_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        return await self.platform.db.read(lambda c: functions.require_alias(c, ref, params["Name"]))

    async def delete_alias(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        ref = self.ref(ctx, params)

        def run(conn: Connection) -> None:
            conn.execute("DELETE FROM lambda_aliases WHERE account_id=? AND region=? AND name=? AND alias=?",
                         (ref.account_id, ref.region, ref.name, params["Name"]))
            delete_for(conn, ref.account_id, ref.region, ref.name, params["Name"])  # its URL goes with it
            provisioned.forget(conn, ref, params["Name"])
        await self.platform.db.write(run)

    async def list_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        items = await self.platform.db.read(lambda c: functions.list_aliases(c, ref))
        if params.get("FunctionVersion"):
            items = [a for a in items if a["FunctionVersion"] == params["FunctionVersion"]]
        return _page(items, params.get("Marker"), params.get("MaxItems", 50), "Aliases", "NextMarker")

    # -- tags, concurrency, permissions ------------------------------------------------------
    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        item = tagging.target(params["Resource"], ctx.region, ctx.account_id)
        await self.platform.db.write(lambda c: tagging.add(c, item, params["Tags"]))

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        item = tagging.target(params["Resource"], ctx.region, ctx.account_id)
        if not params.get("TagKeys"):
            raise AwsError("ValidationException", "1 validation error detected: Value null at 'tagKeys' failed to "
                                                  "satisfy constraint: Member must not be null")
        await self.platform.db.write(lambda c: tagging.remove(c, item, params["TagKeys"]))

    async def list_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        item = tagging.target(params["Resource"], ctx.region, ctx.account_id)
        return {"Tags": await self.platform.db.read(lambda c: tagging.read(c, item))}

    async def get_account_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        count, total = await self.platform.db.read(lambda c: functions.usage(c, ctx.region, ctx.account_id))
        reserved = await self.platform.db.read(lambda c: concurrency.reserved_total(c, ctx.region, ctx.account_id))
        return {"AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                                 "CodeSizeZipped": 52428800, "ConcurrentExecutions": self.pool.max_workers,
                                 "UnreservedConcurrentExecutions": self.pool.max_workers - reserved},
                "AccountUsage": {"TotalCodeSize": total, "FunctionCount": count}}

    async def dead_letter_target(self, region: str, account_id: str, name: str) -> str | None:
        ref = FunctionRef(name, None, region, account_id)
        try:
            resolved = await self.platform.db.read(lambda c: functions.get_version(c, ref, LATEST))
        except AwsError:
            return None
        return (resolved.config.get("DeadLetterConfig") or {}).get("TargetArn")


    # -- event source mappings ---------------------------------------------------------------
    async def create_event_source_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.esm.create(ctx, params)

    async def get_event_source_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.esm.get(ctx, params)

    async def list_event_source_mappings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.esm.list(ctx, params)

    async def update_event_source_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.esm.update(ctx, params)

    async def delete_event_source_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.esm.delete(ctx, params)

    # -- invoking ----------------------------------------------------------------------------
    async def invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params)
        try:
            return await self._invoke(ctx, params, ref)
        except AwsError as exc:
            unqualified = f"Function not found: {function_arn(ref.region, ref.account_id, ref.name)}"
            if exc.code == "ResourceNotFoundException" and ref.qualifier is None and exc.message == unqualified:
                # AWS: Invoke names the version it looked for
                raise AwsError(exc.code, f"{unqualified}:{LATEST}", exc.status) from None
            raise

    async def _invoke(self, ctx: RequestContext, params: dict[str, Any], ref: FunctionRef) -> dict[str, Any]:
        kind = params.get("InvocationType", "RequestResponse")
        payload = params.get("Payload") or b"{}"
        limit = MAX_ASYNC_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            raise AwsError("RequestTooLargeException",
                           f"Request must be smaller than {limit} bytes for the InvokeFunction operation", 413)
        if kind == "RequestResponse":
            try:
                json.loads(payload)
            except ValueError as exc:
                raise AwsError("InvalidRequestContentException", payload_errors.message(payload), 400) from exc
        if kind == "DryRun":
            resolved = await self.platform.db.read(lambda c: functions.resolve(c, ref))
            return {"StatusCode": 204, "ExecutedVersion": resolved.version}
        if kind == "Event":
            now = self.now()
            request_id = ctx.request_id

            def run(conn: Connection) -> None:
                functions.resolve(conn, ref, pick=False)
                async_invoke.enqueue(conn, now, region=ref.region, account_id=ref.account_id, function=ref.name,
                                     qualifier=ref.qualifier, payload=payload, request_id=request_id,
                                     trace=ctx.trace_header)
            await self.platform.db.write(run)
            self.platform.timers.wake()
            self.metrics.async_received(ref.region, ref.account_id, ref.name, ref.qualifier)
            return {"StatusCode": 202}
        result = await self.run_invocation(ref.region, ref.account_id, ref.name, ref.qualifier, payload,
                                           ctx.trace_header, ctx.request_id,
                                           client_context=params.get("ClientContext"))
        out: dict[str, Any] = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": result.version}
        if result.function_error:
            out["FunctionError"] = result.function_error
        if params.get("LogType") == "Tail":
            out["LogResult"] = result.tail()
        return out

    async def run_invocation(self, region: str, account_id: str, name: str, qualifier: str | None, payload: bytes,
                             trace: str | None, request_id: str, client_context: str | None = None) -> InvokeResult:
        """Run once on a worker and record its logs: the path sync invokes, async attempts and pollers share."""
        ref = FunctionRef(name, qualifier, region, account_id)

        def run(conn: Connection) -> tuple[Resolved, int | None]:
            return functions.resolve(conn, ref), functions.meta(conn, ref)["reserved_concurrency"]
        resolved, reserved = await self.platform.db.read(run)
        invoked = function_arn(region, account_id, name, qualifier)
        if self.platform.faults.fire("lambda", "fail", faults.function_resources(region, account_id, name, qualifier)):
            return faults.failed_invocation(request_id, resolved.version, name)  # a `fail` rule (/_eventyard/faults)
        started = self.now()
        incoming, segment = invocation_trace.begin(trace, started)  # the function is its calls' Parent
        result = await self.metrics.measured(region, account_id, name, self.pool.invoke(
            resolved, region, invoked, payload, str(incoming.child(segment)), reserved, client_context, request_id),
            qualifier, resolved.version)
        self._write_logs(region, account_id, result,
                         invocation_trace.hop(incoming, segment, started, invoked, account_id, region, result))
        return result

    async def _run_async_event(self, timer: Any) -> None:
        job = timer.payload  # a `delay` rule (/_eventyard/faults) holds the event back once
        held = faults.function_resources(job["region"], job["account_id"], job["function"], job["qualifier"])
        if await self.platform.faults.held_back("lambda", held, timer):
            return
        self.metrics.async_attempt(timer.payload, self.now())
        await async_invoke.handle(self, timer)

    def _write_logs(self, region: str, account_id: str, result: InvokeResult, hop: tracing.Hop | None = None) -> None:
        """Queue an invocation's log lines (and its trace hop); one write at a time carries everything queued
        so far, so busy functions share a commit instead of paying one each (logs are not acknowledged writes)."""
        logs = AgentLogs(account_id, region, result.log_group, result.stream_name, result.log_lines)
        agent = self.platform.ports.find(LOG_AGENT)  # CloudWatch Logs', when the platform has it
        if agent is not None:
            self._pending_logs.append(logs)
            agent.received(logs)
        if hop is not None:
            self._pending_hops.append(hop)
        if self._log_flush is None or self._log_flush.done():
            self._log_flush = asyncio.get_running_loop().create_task(self.flush_logs())

    async def flush_logs(self) -> None:
        while self._pending_logs or self._pending_hops:
            batch, self._pending_logs = self._pending_logs, []
            hops, self._pending_hops = self._pending_hops, []
            now = self.now()
            agent = self.platform.ports.find(LOG_AGENT)

            def run(conn: Connection) -> None:
                if agent is not None:
                    agent.append(conn, batch, now)
                tracing.record_many(conn, hops)
            try:
                await self.platform.db.write(run)
            except Exception:
                log.exception("could not write %d invocations' logs", len(batch))


def _as_asked(ref: FunctionRef, config: dict[str, Any]) -> dict[str, Any]:
    """AWS names $LATEST in the ARN it answers when the request named it, and an alias asked for by name."""
    if ref.qualifier == LATEST and config.get("Version") == LATEST:
        return dict(config, FunctionArn=f"{config['FunctionArn']}:{LATEST}")
    if ref.qualifier and ref.qualifier != LATEST and not ref.qualifier.isdigit():
        return dict(config, FunctionArn=function_arn(ref.region, ref.account_id, ref.name, ref.qualifier))
    return config


def _page(items: list[dict[str, Any]], marker: str | None, size: int, key: str, marker_key: str) -> dict[str, Any]:
    start = int(marker) if marker and marker.isdigit() else 0
    out: dict[str, Any] = {key: items[start:start + size]}
    if start + size < len(items):
        out[marker_key] = str(start + size)
    return out


_ = last_modified, layer_arn  # re-exported names used by the layers module

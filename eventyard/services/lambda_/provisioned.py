"""Provisioned concurrency configs (Put/Get/Delete/ListProvisionedConcurrencyConfig(s)) per published version
or alias: kept and reported as AWS does, counted against the account's unreserved concurrency. Eventyard
starts workers on demand, so a config is READY as soon as it is written."""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import functions
from eventyard.services.lambda_.concurrency import minimum_unreserved
from eventyard.services.lambda_.errors import untyped
from eventyard.services.lambda_.functions import LATEST
from eventyard.services.lambda_.names import FunctionRef, function_arn, last_modified, not_found, parse_ref
from eventyard.storage import Connection

_KEYS = "account_id=? AND region=? AND name=? AND qualifier=?"


def _ref(ctx: RequestContext, params: dict[str, Any]) -> FunctionRef:
    return parse_ref(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))


def _check_target(conn: Connection, ref: FunctionRef, unpublished: str) -> None:
    """The version or alias must exist; $LATEST (or no qualifier) is refused with `unpublished`."""
    qualifier = ref.qualifier
    if qualifier in (None, LATEST):
        raise AwsError("InvalidParameterValueException", unpublished)
    assert qualifier is not None
    if qualifier.isdigit():
        functions.get_version(conn, ref, qualifier)
        return
    if functions.get_alias(conn, ref, qualifier) is None:
        raise AwsError("ResourceNotFoundException", "Cannot find alias arn: "
                       f"{function_arn(ref.region, ref.account_id, ref.name, qualifier)}", 404)


def _stored(conn: Connection, ref: FunctionRef) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT config FROM lambda_provisioned_concurrency WHERE {_KEYS}",
                       (ref.account_id, ref.region, ref.name, ref.qualifier)).fetchone()
    return json.loads(row["config"]) if row else None


def _check_conflicts(conn: Connection, ref: FunctionRef) -> None:
    """A version may be provisioned directly or through one alias, not both."""
    rows = conn.execute("SELECT qualifier FROM lambda_provisioned_concurrency WHERE account_id=? AND region=? AND "
                        "name=? AND qualifier != ?", (ref.account_id, ref.region, ref.name, ref.qualifier)).fetchall()
    provisioned = {row["qualifier"] for row in rows}
    qualifier = str(ref.qualifier)
    if qualifier.isdigit():
        for other in provisioned - {q for q in provisioned if q.isdigit()}:
            alias = functions.get_alias(conn, ref, other) or {}
            if alias.get("FunctionVersion") == qualifier:
                raise AwsError("ResourceConflictException", "Version is pointed by a Provisioned Concurrency alias",
                               409)
        return
    version = (functions.get_alias(conn, ref, qualifier) or {}).get("FunctionVersion")
    if version in provisioned:
        raise AwsError("ResourceConflictException",
                       "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
                       409)


def _check_limits(conn: Connection, ref: FunctionRef, value: int, limit: int) -> None:
    row = conn.execute("SELECT COALESCE(SUM(reserved_concurrency), 0) AS total FROM lambda_function_meta WHERE "
                       "account_id=? AND region=?", (ref.account_id, ref.region)).fetchone()
    taken = int(row["total"])
    for other in conn.execute("SELECT name, qualifier, config FROM lambda_provisioned_concurrency WHERE account_id=? "
                              "AND region=?", (ref.account_id, ref.region)).fetchall():
        if (other["name"], other["qualifier"]) != (ref.name, ref.qualifier):
            taken += json.loads(other["config"])["RequestedProvisionedConcurrentExecutions"]
    unreserved = limit - taken
    if value > unreserved:
        raise untyped("InvalidParameterValueException", "Specified ConcurrentExecutions for function is greater "
                      f"than account's unreserved concurrency [{unreserved}].")
    floor = minimum_unreserved(limit)
    if unreserved - value < floor:
        raise untyped("InvalidParameterValueException", "Specified ConcurrentExecutions for function decreases "
                      f"account's UnreservedConcurrentExecution below its minimum value of [{floor}].")


async def put_provisioned_concurrency_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _ref(ctx, params)
    value = params["ProvisionedConcurrentExecutions"]
    config = {"RequestedProvisionedConcurrentExecutions": value, "AvailableProvisionedConcurrentExecutions": 0,
              "AllocatedProvisionedConcurrentExecutions": 0, "Status": "IN_PROGRESS",
              "LastModified": last_modified(self.now())}

    def run(conn: Connection) -> None:
        _check_target(conn, ref, "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
        _check_conflicts(conn, ref)
        _check_limits(conn, ref, value, self.pool.max_workers)
        conn.execute("INSERT INTO lambda_provisioned_concurrency (account_id, region, name, qualifier, config) VALUES"
                     " (?,?,?,?,?) ON CONFLICT (account_id, region, name, qualifier) DO UPDATE SET"
                     " config = excluded.config", (ref.account_id, ref.region, ref.name, ref.qualifier,
                                                   json.dumps(config)))
    await self.platform.db.write(run)
    return config  # AWS answers IN_PROGRESS; the config is READY right after


def _ready(config: dict[str, Any]) -> dict[str, Any]:
    requested = config["RequestedProvisionedConcurrentExecutions"]
    return dict(config, Status="READY", AvailableProvisionedConcurrentExecutions=requested,
                AllocatedProvisionedConcurrentExecutions=requested)


_NOT_PUBLISHED = "The function resource provided must be an alias or a published version."


async def get_provisioned_concurrency_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _ref(ctx, params)

    def run(conn: Connection) -> dict[str, Any] | None:
        _check_target(conn, ref, _NOT_PUBLISHED)
        return _stored(conn, ref)
    config = await self.platform.db.read(run)
    if config is None:
        raise AwsError("ProvisionedConcurrencyConfigNotFoundException",
                       "No Provisioned Concurrency Config found for this function", 404)
    return _ready(config)


async def delete_provisioned_concurrency_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> None:
    ref = _ref(ctx, params)

    def run(conn: Connection) -> None:
        _check_target(conn, ref, _NOT_PUBLISHED)
        conn.execute(f"DELETE FROM lambda_provisioned_concurrency WHERE {_KEYS}",
                     (ref.account_id, ref.region, ref.name, ref.qualifier))
    await self.platform.db.write(run)


async def list_provisioned_concurrency_configs(self: Any, ctx: RequestContext,
                                               params: dict[str, Any]) -> dict[str, Any]:
    ref = _ref(ctx, params)

    def run(conn: Connection) -> list[dict[str, Any]]:
        if not functions.exists(conn, ref):
            raise not_found(FunctionRef(ref.name, None, ref.region, ref.account_id))
        rows = conn.execute("SELECT qualifier, config FROM lambda_provisioned_concurrency WHERE account_id=? AND "
                            "region=? AND name=? ORDER BY qualifier", (ref.account_id, ref.region, ref.name)).fetchall()
        return [dict(_ready(json.loads(r["config"])),
                     FunctionArn=function_arn(ref.region, ref.account_id, ref.name, r["qualifier"])) for r in rows]
    return {"ProvisionedConcurrencyConfigs": await self.platform.db.read(run)}


def forget(conn: Connection, ref: FunctionRef, qualifier: str | None = None) -> None:
    """A deleted function's (or alias's / version's) configs go with it."""
    if qualifier is None:
        conn.execute("DELETE FROM lambda_provisioned_concurrency WHERE account_id=? AND region=? AND name=?",
                     (ref.account_id, ref.region, ref.name))
    else:
        conn.execute(f"DELETE FROM lambda_provisioned_concurrency WHERE {_KEYS}",
                     (ref.account_id, ref.region, ref.name, qualifier))


class ProvisionedConcurrencyOperations:
    put_provisioned_concurrency_config = put_provisioned_concurrency_config
    get_provisioned_concurrency_config = get_provisioned_concurrency_config
    delete_provisioned_concurrency_config = delete_provisioned_concurrency_config
    list_provisioned_concurrency_configs = list_provisioned_concurrency_configs

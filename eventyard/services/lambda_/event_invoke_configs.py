"""Event invoke configs (Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s)): per function version or
alias, the retries, event age and destinations async invocations follow, refused in AWS's words."""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import functions
from eventyard.services.lambda_.functions import LATEST
from eventyard.services.lambda_.names import FunctionRef, function_arn, parse_ref
from eventyard.storage import Connection, Row

SETTINGS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
_DESTINATION_SERVICES = {"sqs", "sns", "lambda", "events", "s3"}


def _ref(ctx: RequestContext, params: dict[str, Any]) -> FunctionRef:
    return parse_ref(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))


def _key(ref: FunctionRef) -> tuple[str, str, str, str]:
    return ref.account_id, ref.region, ref.name, ref.qualifier or LATEST


def _no_function() -> AwsError:
    return AwsError("ResourceNotFoundException", "The function doesn't exist.", 404)


def _no_config(ref: FunctionRef) -> AwsError:
    arn = function_arn(ref.region, ref.account_id, ref.name, ref.qualifier or LATEST)
    return AwsError("ResourceNotFoundException", f"The function {arn} doesn't have an EventInvokeConfig", 404)


def _require_function(conn: Connection, ref: FunctionRef) -> None:
    try:
        functions.resolve(conn, ref, pick=False)
    except AwsError as exc:
        raise _no_function() from exc


def _check_destinations(conn: Connection, ref: FunctionRef, config: dict[str, Any]) -> None:
    destinations = config.get("DestinationConfig") or {}
    for kind in ("OnSuccess", "OnFailure"):
        arn = (destinations.get(kind) or {}).get("Destination")
        if not arn:
            continue
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] not in _DESTINATION_SERVICES:
            success = (destinations.get("OnSuccess") or {}).get("Destination")
            failure = (destinations.get("OnFailure") or {}).get("Destination")
            raise AwsError("InvalidParameterValueException", "The provided destination config DestinationConfig("
                           f"onSuccess={_java(success)}, onFailure={_java(failure, 'OnFailure')}) is invalid.")
        if parts[2] != "lambda":
            continue
        target = parse_ref(arn, ref.region, ref.account_id)
        if target.name == ref.name and target.account_id == ref.account_id:
            raise AwsError("InvalidParameterValueException",
                           "You can't specify the function as a destination for itself.")
        if not functions.exists(conn, target):
            raise AwsError("InvalidParameterValueException", f"The destination ARN {arn} is invalid.")


def _java(arn: str | None, kind: str = "OnSuccess") -> str:
    """How Lambda's Java front end prints a destination in its error."""
    return "null" if arn is None else f"{kind}(destination={arn})"


def _shown(config: dict[str, Any]) -> dict[str, Any]:
    """AWS always shows both destinations, empty when unset."""
    destinations = config.get("DestinationConfig") or {}
    return {**config, "DestinationConfig": {"OnFailure": destinations.get("OnFailure") or {},
                                            "OnSuccess": destinations.get("OnSuccess") or {}}}


def _stored(conn: Connection, ref: FunctionRef) -> Row | None:
    return conn.execute("SELECT config FROM lambda_event_invoke_configs WHERE account_id=? AND region=? AND name=? "
                        "AND qualifier=?", _key(ref)).fetchone()


async def put_function_event_invoke_config(self: Any, ctx: RequestContext, params: dict[str, Any],
                                           merge: bool = False) -> dict[str, Any]:
    ref = _ref(ctx, params)
    now = self.now()

    if not any(k in params for k in SETTINGS):  # judged before the function
        raise AwsError("InvalidParameterValueException",
                       "You must specify at least one of error handling or destination setting.")

    def run(conn: Connection) -> dict[str, Any]:
        _require_function(conn, ref)
        row = _stored(conn, ref)
        if merge and row is None:
            raise _no_config(ref)
        config = json.loads(row["config"]) if (merge and row) else {}
        config.update({k: params[k] for k in SETTINGS if k in params})
        _check_destinations(conn, ref, config)
        config["FunctionArn"] = function_arn(ref.region, ref.account_id, ref.name, ref.qualifier or LATEST)
        config["LastModified"] = now
        conn.execute("INSERT INTO lambda_event_invoke_configs (account_id, region, name, qualifier, config)"
                     " VALUES (?,?,?,?,?) ON CONFLICT (account_id, region, name, qualifier)"
                     " DO UPDATE SET config = excluded.config", (*_key(ref), json.dumps(config)))
        return _shown(config)
    return await self.platform.db.write(run)


async def update_function_event_invoke_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return await put_function_event_invoke_config(self, ctx, params, merge=True)


async def get_function_event_invoke_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _ref(ctx, params)
    row = await self.platform.db.read(lambda c: _stored(c, ref))
    if row is None:
        raise _no_config(ref)
    return _shown(json.loads(row["config"]))


async def delete_function_event_invoke_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> None:
    ref = _ref(ctx, params)

    def run(conn: Connection) -> None:
        if not conn.execute("DELETE FROM lambda_event_invoke_configs WHERE account_id=? AND region=? AND name=? AND "
                            "qualifier=?", _key(ref)).rowcount:
            raise _no_config(ref)
    await self.platform.db.write(run)


async def list_function_event_invoke_configs(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _ref(ctx, params)
    limit = params.get("MaxItems", 50)
    start = int(params["Marker"]) if str(params.get("Marker", "")).isdigit() else 0

    def run(conn: Connection) -> list[Row]:
        _require_function(conn, FunctionRef(ref.name, None, ref.region, ref.account_id))
        return conn.execute("SELECT config FROM lambda_event_invoke_configs WHERE account_id=? AND region=? AND"
                            " name=? ORDER BY qualifier", (ref.account_id, ref.region, ref.name)).fetchall()

    rows = await self.platform.db.read(run)
    result: dict[str, Any] = {"FunctionEventInvokeConfigs": [_shown(json.loads(r["config"]))
                                                             for r in rows[start:start + limit]]}
    if start + limit < len(rows):
        result["NextMarker"] = str(start + limit)
    return result


async def event_invoke_config(self: Any, region: str, account_id: str, name: str,
                              qualifier: str | None) -> dict[str, Any]:
    """The config an async invocation follows (qualifier-specific), with the ARN it reports."""
    ref = FunctionRef(name, qualifier, region, account_id)
    row = await self.platform.db.read(lambda c: _stored(c, ref))
    config = json.loads(row["config"]) if row else {}
    config["_FunctionArn"] = function_arn(region, account_id, name, qualifier or LATEST)
    return config


class EventInvokeConfigOperations:
    put_function_event_invoke_config = put_function_event_invoke_config
    update_function_event_invoke_config = update_function_event_invoke_config
    get_function_event_invoke_config = get_function_event_invoke_config
    delete_function_event_invoke_config = delete_function_event_invoke_config
    list_function_event_invoke_configs = list_function_event_invoke_configs
    event_invoke_config = event_invoke_config

"""Code signing configs: their CRUD and the one config a function may name (Put/Get/Delete
FunctionCodeSigningConfig). Eventyard keeps the policy as data; it does not verify signatures."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import functions, tagging
from eventyard.services.lambda_.errors import untyped
from eventyard.services.lambda_.names import FunctionRef, function_arn, last_modified, parse_ref
from eventyard.storage import Connection

_ID_ALPHABET = string.ascii_lowercase + string.digits


def csc_arn(region: str, account_id: str, csc_id: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:code-signing-config:{csc_id}"


def _not_found(arn: str) -> AwsError:
    return untyped("ResourceNotFoundException", f"The Lambda code signing configuration {arn} can not be found.", 404)


def _key(arn: str) -> tuple[str, str, str]:
    parts = arn.split(":")
    return (parts[4], parts[3], parts[6]) if len(parts) == 7 else ("", "", "")


def _load(conn: Connection, arn: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT config FROM lambda_code_signing_configs WHERE account_id=? AND region=? AND "
                       "csc_id=?", _key(arn)).fetchone()
    return json.loads(row["config"]) if row else None


def _require(conn: Connection, arn: str) -> dict[str, Any]:
    config = _load(conn, arn)
    if config is None:
        raise _not_found(arn)
    return config


def _store(conn: Connection, config: dict[str, Any]) -> None:
    conn.execute("INSERT INTO lambda_code_signing_configs (account_id, region, csc_id, config) VALUES (?,?,?,?)"
                 " ON CONFLICT (account_id, region, csc_id) DO UPDATE SET config = excluded.config",
                 (*_key(config["CodeSigningConfigArn"]), json.dumps(config)))


def _linked(conn: Connection, arn: str) -> list[str]:
    rows = conn.execute("SELECT account_id, region, name FROM lambda_function_meta WHERE code_signing_config=?"
                        " ORDER BY name", (arn,)).fetchall()
    return [function_arn(r["region"], r["account_id"], r["name"]) for r in rows]


async def create_code_signing_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    tagging.check_count(params.get("Tags") or {})
    csc_id = "csc-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))
    arn = csc_arn(ctx.region, ctx.account_id, csc_id)
    config = {"CodeSigningConfigId": csc_id, "CodeSigningConfigArn": arn, "Description": params.get("Description", ""),
              "AllowedPublishers": params["AllowedPublishers"],
              "CodeSigningPolicies": params.get("CodeSigningPolicies") or {"UntrustedArtifactOnDeployment": "Warn"},
              "LastModified": last_modified(self.now())}

    def run(conn: Connection) -> None:
        _store(conn, config)
        if params.get("Tags"):
            tagging.write(conn, tagging.Target("code-signing-config", arn), params["Tags"])
    await self.platform.db.write(run)
    return {"CodeSigningConfig": config}


async def update_code_signing_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["CodeSigningConfigArn"]
    now = self.now()

    def run(conn: Connection) -> dict[str, Any]:
        config = _require(conn, arn)
        changed: dict[str, Any] = {k: params[k] for k in ("Description", "AllowedPublishers", "CodeSigningPolicies")
                                   if k in params}
        if changed:
            config.update(changed, LastModified=last_modified(now))
            _store(conn, config)
        return config
    return {"CodeSigningConfig": await self.platform.db.write(run)}


async def get_code_signing_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["CodeSigningConfigArn"]
    return {"CodeSigningConfig": await self.platform.db.read(lambda c: _require(c, arn))}


async def delete_code_signing_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["CodeSigningConfigArn"]

    def run(conn: Connection) -> None:
        _require(conn, arn)
        conn.execute("DELETE FROM lambda_code_signing_configs WHERE account_id=? AND region=? AND csc_id=?",
                     _key(arn))
        conn.execute("UPDATE lambda_function_meta SET code_signing_config=NULL WHERE code_signing_config=?", (arn,))
        tagging.forget(conn, arn)
    await self.platform.db.write(run)
    return {}


async def list_code_signing_configs(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    rows = await self.platform.db.read(lambda c: c.execute(
        "SELECT config FROM lambda_code_signing_configs WHERE account_id=? AND region=? ORDER BY csc_id",
        (ctx.account_id, ctx.region)).fetchall())
    items = [json.loads(r["config"]) for r in rows]
    start = int(params["Marker"]) if str(params.get("Marker", "")).isdigit() else 0
    size = params.get("MaxItems", 50)
    out: dict[str, Any] = {"CodeSigningConfigs": items[start:start + size]}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out


async def list_functions_by_code_signing_config(self: Any, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
    arn = params["CodeSigningConfigArn"]

    def run(conn: Connection) -> list[str]:
        _require(conn, arn)
        return _linked(conn, arn)
    return {"FunctionArns": await self.platform.db.read(run)}


def _function(ctx: RequestContext, params: dict[str, Any]) -> FunctionRef:
    ref = parse_ref(params["FunctionName"], ctx.region, ctx.account_id)
    return FunctionRef(ref.name, None, ref.region, ref.account_id)


async def put_function_code_signing_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["CodeSigningConfigArn"]
    ref = _function(ctx, params)

    def run(conn: Connection) -> None:
        if _load(conn, arn) is None:  # AWS judges the config before the function
            raise AwsError("CodeSigningConfigNotFoundException", "The code signing configuration cannot be found. "
                           f"Check that the provided configuration is not deleted: {arn}.", 404)
        functions.set_meta(conn, ref, "code_signing_config", arn)
    await self.platform.db.write(run)
    return {"CodeSigningConfigArn": arn, "FunctionName": ref.name}


async def get_function_code_signing_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _function(ctx, params)
    arn = (await self.platform.db.read(lambda c: functions.meta(c, ref)))["code_signing_config"]
    return {"CodeSigningConfigArn": arn, "FunctionName": ref.name} if arn else {}


async def delete_function_code_signing_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _function(ctx, params)
    await self.platform.db.write(lambda c: functions.set_meta(c, ref, "code_signing_config", None))
    return {}


class CodeSigningOperations:
    """The code signing operations of the Lambda provider."""

    create_code_signing_config = create_code_signing_config
    update_code_signing_config = update_code_signing_config
    get_code_signing_config = get_code_signing_config
    delete_code_signing_config = delete_code_signing_config
    list_code_signing_configs = list_code_signing_configs
    list_functions_by_code_signing_config = list_functions_by_code_signing_config
    put_function_code_signing_config = put_function_code_signing_config
    get_function_code_signing_config = get_function_code_signing_config
    delete_function_code_signing_config = delete_function_code_signing_config

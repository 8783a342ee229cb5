"""Layer versions: zips unpacked like function code; a function's layers are merged into one
directory that plays the part of /opt (python/, nodejs/node_modules, bin/)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import layer_policies
from eventyard.services.lambda_.code import store_zip
from eventyard.services.lambda_.names import last_modified, layer_arn
from eventyard.storage import Connection

MAX_LAYERS = 5


def _check_references(arns: list[str], region: str | None) -> None:
    """AWS's refusals of a function's layer list, judged before any layer is looked up."""
    if len(arns) > MAX_LAYERS:
        raise AwsError("InvalidParameterValueException", f"Cannot reference more than {MAX_LAYERS} layers.")
    seen: dict[str, str] = {}
    for arn in arns:
        parts = arn.split(":")
        if region is not None and len(parts) > 3 and parts[3] != region:
            raise AwsError("InvalidParameterValueException", "Layers are not in the same region as the function. "
                                                             f"Layers are expected to be in region {region}.")
        layer = arn.rsplit(":", 1)[0]
        if layer in seen:
            raise AwsError("InvalidParameterValueException", "Two different versions of the same layer are not "
                           f"allowed to be referenced in the same function. {seen[layer]} and {arn} are versions of "
                           "the same layer.")
        seen[layer] = arn


def _layers(self: Any, conn: Connection, arns: list[str], region: str | None = None) -> list[dict[str, Any]]:
    _check_references(arns, region)
    out = []
    for arn in arns:
        parts = arn.split(":")
        if len(parts) != 8 or parts[5] != "layer" or not parts[7].isdigit():
            raise AwsError("InvalidParameterValueException", f"Layer version {arn} does not exist.")
        row = conn.execute("SELECT config, dir FROM lambda_layers WHERE account_id=? AND region=? AND name=? AND "
                           "version=?", (parts[4], parts[3], parts[6], int(parts[7]))).fetchone()
        if row is None:
            raise AwsError("InvalidParameterValueException", f"Layer version {arn} does not exist.")
        out.append({**json.loads(row["config"]), "_dir": row["dir"]})
    return out


def _layers_dir(self: Any, layers: list[dict[str, Any]]) -> str:
    """Merge layers in order (later ones win, as in /opt) into a directory named by their identity."""
    if not layers:
        return ""
    name = hashlib.sha256("|".join(x["LayerVersionArn"] for x in layers).encode()).hexdigest()
    target = Path(self.layer_root) / "merged" / name
    if not target.exists():
        staging = target.with_suffix(".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        for layer in layers:
            shutil.copytree(layer["_dir"], staging, dirs_exist_ok=True, symlinks=True)
        staging.rename(target)
    return str(target)


async def publish_layer_version(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    content = params["Content"]
    if content.get("ZipFile") is None:
        raise AwsError("InvalidParameterValueException", "Eventyard takes layer content as Content.ZipFile.")
    stored = await asyncio.to_thread(store_zip, Path(self.layer_root) / "content", content["ZipFile"])
    now = self.now()
    name = params["LayerName"]

    def run(conn: Connection) -> dict[str, Any]:
        version = _next_version(conn, ctx.account_id, ctx.region, name)
        config = {"Content": {"Location": f"file://{stored['dir']}", "CodeSha256": stored["sha256"],
                              "CodeSize": stored["size"]},
                  "LayerArn": layer_arn(ctx.region, ctx.account_id, name),
                  "LayerVersionArn": layer_arn(ctx.region, ctx.account_id, name, version),
                  "Description": params.get("Description", ""), "CreatedDate": last_modified(now),
                  "Version": version, "CompatibleRuntimes": params.get("CompatibleRuntimes", []),
                  "CompatibleArchitectures": params.get("CompatibleArchitectures", [])}
        if params.get("LicenseInfo"):
            config["LicenseInfo"] = params["LicenseInfo"]
        conn.execute("INSERT INTO lambda_layers (account_id, region, name, version, config, dir) VALUES (?,?,?,?,?,?)",
                     (ctx.account_id, ctx.region, name, version, json.dumps(config), stored["dir"]))
        return config
    return await self.platform.db.write(run)


def _next_version(conn: Connection, account_id: str, region: str, name: str) -> int:
    """AWS never gives a layer version number out twice, even after every version was deleted."""
    row = conn.execute("INSERT INTO lambda_layer_counters (account_id, region, name, last_version) VALUES (?,?,?,"
                       " COALESCE((SELECT MAX(version) FROM lambda_layers WHERE account_id=? AND region=? AND name=?),"
                       " 0) + 1) ON CONFLICT (account_id, region, name) DO UPDATE SET"
                       " last_version = lambda_layer_counters.last_version + 1 RETURNING last_version",
                       (account_id, region, name, account_id, region, name)).fetchone()
    return int(row["last_version"])


def _check_version(number: int) -> None:
    if number < 1:
        raise AwsError("InvalidParameterValueException", "Layer Version Cannot be less than 1")


def _layer_name(ctx: RequestContext, text: str) -> str:
    return text.split(":")[6] if text.startswith("arn:") else text


async def get_layer_version(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _layer_name(ctx, params["LayerName"])
    _check_version(params["VersionNumber"])
    row = await self.platform.db.read(lambda c: c.execute(
        "SELECT config FROM lambda_layers WHERE account_id=? AND region=? AND name=? AND version=?",
        (ctx.account_id, ctx.region, name, params["VersionNumber"])).fetchone())
    if row is None:
        raise AwsError("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    return json.loads(row["config"])


async def get_layer_version_by_arn(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    parts = params["Arn"].split(":")
    if len(parts) != 8 or not parts[7].isdigit():  # e.g. AWS's own `arn:aws:lambda:::awslayer:...` layers
        raise AwsError("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    return await get_layer_version(self, ctx, {"LayerName": parts[6], "VersionNumber": int(parts[7])})


async def list_layer_versions(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _layer_name(ctx, params["LayerName"])
    rows = await self.platform.db.read(lambda c: c.execute(
        "SELECT config FROM lambda_layers WHERE account_id=? AND region=? AND name=? ORDER BY version DESC",
        (ctx.account_id, ctx.region, name)).fetchall())
    return {"LayerVersions": [{k: v for k, v in json.loads(r["config"]).items() if k not in {"Content", "LayerArn"}}
                              for r in rows]}


async def list_layers(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    rows = await self.platform.db.read(lambda c: c.execute(
        "SELECT name, config FROM lambda_layers WHERE account_id=? AND region=? ORDER BY name, version DESC",
        (ctx.account_id, ctx.region)).fetchall())
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["name"] not in seen:
            config = json.loads(row["config"])
            seen[row["name"]] = {"LayerName": row["name"], "LayerArn": config["LayerArn"], "LatestMatchingVersion": {
                k: v for k, v in config.items() if k not in {"Content", "LayerArn"}}}
    return {"Layers": list(seen.values())}


async def delete_layer_version(self: Any, ctx: RequestContext, params: dict[str, Any]) -> None:
    name = _layer_name(ctx, params["LayerName"])
    _check_version(params["VersionNumber"])

    def run(conn: Connection) -> None:
        conn.execute("DELETE FROM lambda_layers WHERE account_id=? AND region=? AND name=? AND version=?",
                     (ctx.account_id, ctx.region, name, params["VersionNumber"]))
        layer_policies.forget(conn, ctx.account_id, ctx.region, name, params["VersionNumber"])
    await self.platform.db.write(run)


class LayerOperations(layer_policies.LayerPolicyOperations):
    """The layer operations and helpers of the Lambda provider, kept with their domain."""

    layer_root: Path
    _layers = _layers
    _layers_dir = _layers_dir
    publish_layer_version = publish_layer_version
    get_layer_version = get_layer_version
    get_layer_version_by_arn = get_layer_version_by_arn
    list_layer_versions = list_layer_versions
    list_layers = list_layers
    delete_layer_version = delete_layer_version

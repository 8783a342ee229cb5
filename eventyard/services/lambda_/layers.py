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
from eventyard.services.lambda_.code import store_zip
from eventyard.services.lambda_.names import last_modified, layer_arn
from eventyard.storage import Connection


def _layers(self: Any, conn: Connection, arns: list[str]) -> list[dict[str, Any]]:
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
        row = conn.execute("SELECT MAX(version) AS v FROM lambda_layers WHERE account_id=? AND region=? AND name=?",
                           (ctx.account_id, ctx.region, name)).fetchone()
        version = (row["v"] or 0) + 1
        config = {"Content": {"Location": f"file://{stored['dir']}", "CodeSha256": stored["sha256"],
                              "CodeSize": stored["size"]},
                  "LayerArn": layer_arn(ctx.region, ctx.account_id, name),
                  "LayerVersionArn": layer_arn(ctx.region, ctx.account_id, name, version),
                  "Description": params.get("Description", ""), "CreatedDate": last_modified(now),
                  "Version": version, "CompatibleRuntimes": params.get("CompatibleRuntimes", []),
                  "CompatibleArchitectures": params.get("CompatibleArchitectures", [])}
        if params.get("LicenseInfo"):
            config["LicenseInfo"] = params["LicenseInfo"]
        conn.execute("INSERT INTO lambda_layers VALUES (?,?,?,?,?,?)",
                     (ctx.account_id, ctx.region, name, version, json.dumps(config), stored["dir"]))
        return config
    return await self.platform.db.write(run)


def _layer_name(ctx: RequestContext, text: str) -> str:
    return text.split(":")[6] if text.startswith("arn:") else text


async def get_layer_version(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _layer_name(ctx, params["LayerName"])
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
    await self.platform.db.write(lambda c: c.execute(
        "DELETE FROM lambda_layers WHERE account_id=? AND region=? AND name=? AND version=?",
        (ctx.account_id, ctx.region, name, params["VersionNumber"])))


class LayerOperations:
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

"""Layer version permissions (Add/RemoveLayerVersionPermission, GetLayerVersionPolicy): one policy per
layer version, its statements in the order they were added and a RevisionId that changes with each."""

from __future__ import annotations

import json
import uuid
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_.names import layer_arn, revision_mismatch
from eventyard.storage import Connection, Row


def _layer_name(text: str) -> str:
    return text.split(":")[6] if text.startswith("arn:") else text


def _version_row(conn: Connection, ctx: RequestContext, name: str, version: int) -> Row:
    if version < 1:
        raise AwsError("InvalidParameterValueException", "Layer Version Cannot be less than 1")
    row = conn.execute("SELECT policy_revision FROM lambda_layers WHERE account_id=? AND region=? AND name=? AND "
                       "version=?", (ctx.account_id, ctx.region, name, version)).fetchone()
    if row is None:
        raise AwsError("ResourceNotFoundException",
                       f"Layer version {layer_arn(ctx.region, ctx.account_id, name, version)} does not exist.", 404)
    return row


def _check_revision(row: Row, given: str | None) -> None:
    if given is not None and given != row["policy_revision"]:
        raise revision_mismatch("GetLayerPolicy")


def _new_revision(conn: Connection, ctx: RequestContext, name: str, version: int) -> str:
    revision = str(uuid.uuid4())
    conn.execute("UPDATE lambda_layers SET policy_revision=? WHERE account_id=? AND region=? AND name=? AND version=?",
                 (revision, ctx.account_id, ctx.region, name, version))
    return revision


def statement(params: dict[str, Any], resource: str) -> dict[str, Any]:
    principal = params["Principal"]
    out: dict[str, Any] = {"Sid": params["StatementId"], "Effect": "Allow",
                           "Principal": principal if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
                           "Action": params["Action"], "Resource": resource}
    if params.get("OrganizationId"):
        out["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": params["OrganizationId"]}}
    return out


async def add_layer_version_permission(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, version = _layer_name(params["LayerName"]), params["VersionNumber"]
    entry = statement(params, layer_arn(ctx.region, ctx.account_id, name, version))
    now = self.now()

    def run(conn: Connection) -> str:
        _check_revision(_version_row(conn, ctx, name, version), params.get("RevisionId"))
        added = conn.execute(
            "INSERT INTO lambda_layer_policies (account_id, region, name, version, sid, statement, added_at)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING sid",
            (ctx.account_id, ctx.region, name, version, params["StatementId"], json.dumps(entry), now)).fetchone()
        if added is None:
            raise AwsError("ResourceConflictException", f"The statement id ({params['StatementId']}) provided already "
                           "exists. Please provide a new statement id, or remove the existing statement.", 409)
        return _new_revision(conn, ctx, name, version)
    return {"Statement": json.dumps(entry), "RevisionId": await self.platform.db.write(run)}


async def get_layer_version_policy(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, version = _layer_name(params["LayerName"]), params["VersionNumber"]

    def run(conn: Connection) -> tuple[Row, list[Row]]:
        row = _version_row(conn, ctx, name, version)
        return row, conn.execute("SELECT statement FROM lambda_layer_policies WHERE account_id=? AND region=? AND "
                                 "name=? AND version=? ORDER BY added_at, sid",
                                 (ctx.account_id, ctx.region, name, version)).fetchall()
    row, statements = await self.platform.db.read(run)
    if not statements:
        raise AwsError("ResourceNotFoundException", "No policy is associated with the given resource.", 404)
    policy = {"Version": "2012-10-17", "Id": "default", "Statement": [json.loads(s["statement"]) for s in statements]}
    return {"Policy": json.dumps(policy), "RevisionId": row["policy_revision"]}


async def remove_layer_version_permission(self: Any, ctx: RequestContext, params: dict[str, Any]) -> None:
    name, version, sid = _layer_name(params["LayerName"]), params["VersionNumber"], params["StatementId"]

    def run(conn: Connection) -> None:
        row = _version_row(conn, ctx, name, version)
        key = (ctx.account_id, ctx.region, name, version, sid)
        if conn.execute("SELECT 1 FROM lambda_layer_policies WHERE account_id=? AND region=? AND name=? AND "
                        "version=? AND sid=?", key).fetchone() is None:
            raise AwsError("ResourceNotFoundException", f"Statement {sid} is not found in resource policy.", 404)
        _check_revision(row, params.get("RevisionId"))
        conn.execute("DELETE FROM lambda_layer_policies WHERE account_id=? AND region=? AND name=? AND version=? AND "
                     "sid=?", key)
        _new_revision(conn, ctx, name, version)
    await self.platform.db.write(run)


def forget(conn: Connection, account_id: str, region: str, name: str, version: int) -> None:
    """A deleted layer version's policy goes with it."""
    conn.execute("DELETE FROM lambda_layer_policies WHERE account_id=? AND region=? AND name=? AND version=?",
                 (account_id, region, name, version))


class LayerPolicyOperations:
    add_layer_version_permission = add_layer_version_permission
    get_layer_version_policy = get_layer_version_policy
    remove_layer_version_permission = remove_layer_version_permission

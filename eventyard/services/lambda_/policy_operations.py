"""AddPermission, GetPolicy and RemovePermission: a function's (or version's, or alias's) resource policy,
its statements in the order they were added, a RevisionId derived from its content, and AWS's refusals."""

from __future__ import annotations

import json
import uuid
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import functions, permissions
from eventyard.services.lambda_.functions import LATEST
from eventyard.services.lambda_.names import FunctionRef, function_arn, not_found, parse_ref, revision_mismatch
from eventyard.storage import Connection, Row

_NO_RESOURCE = "The resource you requested does not exist."


def _ref(ctx: RequestContext, params: dict[str, Any]) -> FunctionRef:
    return parse_ref(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))


def _is_alias(qualifier: str) -> bool:
    return qualifier != LATEST and not qualifier.isdigit() and "$" not in qualifier


def _check_target(conn: Connection, ref: FunctionRef) -> None:
    """The function, and the version or alias the request names, must exist (each named its own way)."""
    if not functions.exists(conn, FunctionRef(ref.name, None, ref.region, ref.account_id)):
        raise not_found(FunctionRef(ref.name, None, ref.region, ref.account_id))
    qualifier = ref.qualifier
    if qualifier is None or qualifier == LATEST:
        return
    if _is_alias(qualifier):
        if functions.get_alias(conn, ref, qualifier) is None:
            raise AwsError("ResourceNotFoundException", "Cannot find alias arn: "
                           f"{function_arn(ref.region, ref.account_id, ref.name, qualifier)}", 404)
    elif not qualifier.isdigit() or not functions.exists_version(conn, ref, qualifier):
        raise not_found(ref)


def _statements(conn: Connection, ref: FunctionRef) -> list[Row]:
    return conn.execute("SELECT statement FROM lambda_policies WHERE account_id=? AND region=? AND name=? AND "
                        "qualifier=? ORDER BY added_at, sid",
                        (ref.account_id, ref.region, ref.name, ref.qualifier or "")).fetchall()


def _revision(rows: list[Row]) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, json.dumps([r["statement"] for r in rows])))


def _resource_revision(conn: Connection, ref: FunctionRef) -> str | None:
    qualifier = ref.qualifier or LATEST
    if _is_alias(qualifier):
        return (functions.get_alias(conn, ref, qualifier) or {}).get("RevisionId")
    return str(functions.get_version(conn, ref, qualifier).config.get("RevisionId"))


def _check_revision(rows: list[Row], given: str | None, resource: str | None = None) -> None:
    """AWS takes the policy's RevisionId, or that of the function, version or alias it belongs to."""
    if given and given != resource and (not rows or given != _revision(rows)):
        raise revision_mismatch("GetPolicy")


def _check_principal(value: str) -> None:
    """A service principal must be an AWS service's (…amazonaws.com); accounts, ARNs and * are taken as given."""
    if "." in value and not value.startswith("arn:") and not value.endswith((".amazonaws.com", ".amazon.com")):
        raise AwsError("InvalidParameterValueException",
                       "The provided principal was invalid. Please check the principal and try again.")


async def add_permission(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _ref(ctx, params)
    if ref.qualifier == LATEST:
        raise AwsError("InvalidParameterValueException", "We currently do not support adding policies for $LATEST.")
    _check_principal(params["Principal"])
    statement = permissions.statement(params, function_arn(ref.region, ref.account_id, ref.name, ref.qualifier))
    now = self.platform.clock.now()

    def run(conn: Connection) -> None:
        _check_target(conn, ref)
        _check_revision(_statements(conn, ref), params.get("RevisionId"), _resource_revision(conn, ref))
        added = conn.execute(
            "INSERT INTO lambda_policies (account_id, region, name, qualifier, sid, statement, added_at)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING sid",
            (ref.account_id, ref.region, ref.name, ref.qualifier or "", params["StatementId"], json.dumps(statement),
             now)).fetchone()
        if added is None:
            raise AwsError("ResourceConflictException", f"The statement id ({params['StatementId']}) provided "
                           "already exists. Please provide a new statement id, or remove the existing statement.", 409)
    await self.platform.db.write(run)
    return {"Statement": json.dumps(statement)}


async def get_policy(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _ref(ctx, params)

    def run(conn: Connection) -> list[Row]:
        try:
            _check_target(conn, ref)
        except AwsError as exc:  # GetPolicy names no function
            raise AwsError("ResourceNotFoundException", _NO_RESOURCE, 404) from exc
        return _statements(conn, ref)
    rows = await self.platform.db.read(run)
    if not rows:
        raise AwsError("ResourceNotFoundException", _NO_RESOURCE, 404)
    policy = {"Version": "2012-10-17", "Id": "default", "Statement": [json.loads(r["statement"]) for r in rows]}
    return {"Policy": json.dumps(policy), "RevisionId": _revision(rows)}


async def remove_permission(self: Any, ctx: RequestContext, params: dict[str, Any]) -> None:
    ref = _ref(ctx, params)
    sid = params["StatementId"]

    def run(conn: Connection) -> None:
        try:
            _check_target(conn, ref)
        except AwsError as exc:
            if exc.message.startswith("Cannot find alias"):
                raise
            raise AwsError("ResourceNotFoundException", "No policy found for: "
                           f"{function_arn(ref.region, ref.account_id, ref.name, ref.qualifier)}", 404) from exc
        rows = _statements(conn, ref)
        if not rows:
            raise AwsError("ResourceNotFoundException", "No policy is associated with the given resource.", 404)
        if not any(json.loads(r["statement"]).get("Sid") == sid for r in rows):
            raise AwsError("ResourceNotFoundException", f"Statement {sid} is not found in resource policy.", 404)
        _check_revision(rows, params.get("RevisionId"))
        conn.execute("DELETE FROM lambda_policies WHERE account_id=? AND region=? AND name=? AND qualifier=? AND "
                     "sid=?", (ref.account_id, ref.region, ref.name, ref.qualifier or "", sid))
    await self.platform.db.write(run)


class PolicyOperations:
    add_permission = add_permission
    get_policy = get_policy
    remove_permission = remove_permission

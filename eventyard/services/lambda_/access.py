"""Who may act on another account's function: the function's resource policy decides (the
statements AddPermission adds, per version or alias), as on AWS. Only asked when authentication is
on and the function ARN a request names belongs to another account than the caller's
(runtime/access.py). The same check admits a delivery an AWS service makes to a function of another
account (SNS, EventBridge), with the service's principal and the source's ARN."""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import Caller, Decision, crosses_accounts, evaluate, refusal_message
from eventyard.services.lambda_.names import FunctionRef, function_arn, parse_ref
from eventyard.storage import Connection

# Every way to invoke is authorized as lambda:InvokeFunction (recorded for InvokeAsync).
_ACTIONS = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction"}
INVOKE = "lambda:InvokeFunction"


def action_of(operation: str) -> str:
    return f"lambda:{_ACTIONS.get(operation, operation)}"


def function_named(ctx: Any, params: dict[str, Any]) -> FunctionRef | None:
    """The function (version, alias) a request acts on, when it names one; a malformed name is left
    to the operation."""
    text = params.get("FunctionName") or params.get("Resource")
    if not isinstance(text, str):
        return None
    try:
        return parse_ref(text, ctx.region, ctx.account_id, params.get("Qualifier"))
    except AwsError:
        return None


def policy_of(conn: Connection, ref: FunctionRef) -> dict[str, Any]:
    """The resource policy of the function, version or alias `ref` names (each has its own)."""
    rows = conn.execute("SELECT statement FROM lambda_policies WHERE account_id=? AND region=? AND name=? AND "
                        "qualifier=?", (ref.account_id, ref.region, ref.name, ref.qualifier or "")).fetchall()
    return {"Statement": [json.loads(row["statement"]) for row in rows]}


def access_denied(caller: Caller, action: str, resource: str, decision: Decision) -> AwsError:
    return AwsError("AccessDeniedException", refusal_message(caller, action, resource, decision), 403)


async def check(platform: Any, caller: Caller, ref: FunctionRef, action: str) -> None:
    """Raise AccessDeniedException unless `ref`'s policy lets `caller` perform `action` on it."""
    policy = await platform.db.read(lambda conn: policy_of(conn, ref))
    resource = function_arn(ref.region, ref.account_id, ref.name, ref.qualifier)
    decision = evaluate(policy, caller, action, resource)
    if decision is not Decision.ALLOWED:
        raise access_denied(caller, action, resource, decision)


async def authorize(platform: Any, ctx: Any, operation: str, params: dict[str, Any]) -> None:
    ref = function_named(ctx, params)
    if ref is not None and crosses_accounts(ctx.caller, ref.account_id):
        await check(platform, ctx.caller, ref, action_of(operation))

"""A function's resource-based policy: the statement AddPermission writes (in AWS's shape), and the
question a function URL asks of it before a public (AuthType NONE) request reaches the function."""

from __future__ import annotations

import json
from typing import Any

from eventyard.storage import Connection

URL_ACTIONS = {"lambda:InvokeFunctionUrl", "lambda:*", "*"}


def principal(value: str) -> str | dict[str, str]:
    """`*` stays a bare wildcard; a service name, an account id or an ARN get AWS's principal maps."""
    if value == "*":
        return "*"
    if value.isdigit():
        return {"AWS": f"arn:aws:iam::{value}:root"}
    if value.startswith("arn:"):
        return {"AWS": value}
    if "." in value:
        return {"Service": value}
    return {"AWS": value}


def statement(params: dict[str, Any], resource: str) -> dict[str, Any]:
    """The policy statement for an AddPermission request, conditions as AWS writes them."""
    out: dict[str, Any] = {"Sid": params["StatementId"], "Effect": "Allow", "Principal": principal(params["Principal"]),
                           "Action": params["Action"], "Resource": resource}
    equals: dict[str, str] = {}
    if params.get("SourceAccount"):
        equals["AWS:SourceAccount"] = params["SourceAccount"]
    if params.get("FunctionUrlAuthType"):
        equals["lambda:FunctionUrlAuthType"] = params["FunctionUrlAuthType"]
    if params.get("PrincipalOrgID"):
        equals["aws:PrincipalOrgID"] = params["PrincipalOrgID"]
    if params.get("EventSourceToken"):
        equals["lambda:EventSourceToken"] = params["EventSourceToken"]
    condition: dict[str, Any] = {}
    if equals:
        condition["StringEquals"] = equals
    if params.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": params["SourceArn"]}
    if params.get("InvokedViaFunctionUrl") is not None:  # a boolean context key: IAM's Bool operator
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true" if params["InvokedViaFunctionUrl"] else "false"}
    if condition:
        out["Condition"] = condition
    return out


def _actions(entry: dict[str, Any]) -> list[str]:
    action = entry.get("Action")
    return [action] if isinstance(action, str) else list(action or [])


def allows_public_url(conn: Connection, account_id: str, region: str, name: str, qualifier: str,
                      auth_type: str) -> bool:
    """Whether the policy of the function (or of the alias the URL belongs to) lets anyone invoke its URL.

    AWS asks, since October 2025, for `lambda:InvokeFunction` beside `lambda:InvokeFunctionUrl` for URLs
    created from then on; every recording of URL invocations we follow (and accounts that had function
    URLs before, until November 2026) shows `lambda:InvokeFunctionUrl` alone is enough, so that is the
    rule here."""
    rows = conn.execute("SELECT statement FROM lambda_policies WHERE account_id=? AND region=? AND name=?"
                        " AND qualifier=?", (account_id, region, name, qualifier)).fetchall()
    for row in rows:
        entry = json.loads(row["statement"])
        if entry.get("Effect") != "Allow" or entry.get("Principal") not in ("*", {"AWS": "*"}):
            continue
        if not URL_ACTIONS & set(_actions(entry)):
            continue
        wanted = ((entry.get("Condition") or {}).get("StringEquals") or {}).get("lambda:FunctionUrlAuthType")
        if wanted in (None, auth_type):
            return True
    return False

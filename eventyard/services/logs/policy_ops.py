"""Resource policies and destinations (a mixin of LogsProvider).

Resource policies let services write to log groups (at most 10 per account and region). The answer to
PutResourcePolicy echoes the document as sent; DescribeResourcePolicies shows it as AWS stores it:
a missing Version is "2008-10-17" and a one-element list under Principal, Action or Resource is the
element itself (both recorded against AWS). Destinations are the targets (a Kinesis stream or Firehose
stream with a role to write to it) other accounts subscribe log groups to.
"""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import partitions
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.logs import documents
from eventyard.storage import Connection

MAX_RESOURCE_POLICIES = 10
_LISTED_STATEMENT_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def _one_or_many(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def stored_document(text: str) -> str:
    """A policy document as AWS keeps it (see the module's docstring)."""
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if not isinstance(document, dict):
        return text
    document.setdefault("Version", "2008-10-17")
    statements = document.get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            continue
        for key in _LISTED_STATEMENT_KEYS:
            if key in statement:
                statement[key] = _one_or_many(statement[key])
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            statement["Principal"] = {kind: _one_or_many(who) for kind, who in principal.items()}
    return json.dumps(document, separators=(",", ":"))


def _valid_json(text: str, what: str) -> None:
    try:
        json.loads(text)
    except ValueError:
        raise AwsError("InvalidParameterException", f"{what} is not valid JSON.") from None


class PolicyOperations(Provider):
    # -- resource policies ---------------------------------------------------------------------
    async def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, text = params.get("policyName") or "", params.get("policyDocument") or ""
        _valid_json(text, "Policy document")
        now = int(self.platform.clock.now() * 1000)

        def run(conn: Connection) -> dict[str, Any]:
            kind = documents.RESOURCE_POLICY
            exists = documents.get(conn, kind, ctx.account_id, ctx.region, name) is not None
            if not exists and documents.count(conn, kind, ctx.account_id, ctx.region) >= MAX_RESOURCE_POLICIES:
                raise AwsError("LimitExceededException", "Resource limit exceeded.")
            policy = {"policyName": name, "policyDocument": text, "lastUpdatedTime": now, "policyScope": "ACCOUNT"}
            documents.put(conn, kind, ctx.account_id, ctx.region, name, policy)
            return policy

        return {"resourcePolicy": await self.platform.db.write(run)}

    async def describe_resource_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.platform.db.read(lambda conn: documents.listing(
            conn, documents.RESOURCE_POLICY, ctx.account_id, ctx.region, params.get("nextToken"),
            params.get("limit") or 50))
        return paging.answer(found, "resourcePolicies", lambda policy: {
            **policy, "policyDocument": stored_document(policy["policyDocument"])}, token_key="nextToken")

    async def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name = params.get("policyName") or ""

        def run(conn: Connection) -> None:
            if not documents.delete(conn, documents.RESOURCE_POLICY, ctx.account_id, ctx.region, name):
                raise AwsError("ResourceNotFoundException", f"Policy with name [{name}] does not exist.")

        await self.platform.db.write(run)

    # -- destinations --------------------------------------------------------------------------
    async def put_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["destinationName"]
        now = int(self.platform.clock.now() * 1000)

        def run(conn: Connection) -> dict[str, Any]:
            old = documents.get(conn, documents.DESTINATION, ctx.account_id, ctx.region, name) or {}
            destination = {
                "destinationName": name, "targetArn": params["targetArn"], "roleArn": params["roleArn"],
                "arn": partitions.arn("logs", ctx.region, ctx.account_id, f"destination:{name}"),
                "creationTime": old.get("creationTime", now),
                **({"accessPolicy": old["accessPolicy"]} if "accessPolicy" in old else {}),
                "tags": {**old.get("tags", {}), **(params.get("tags") or {})},
            }
            documents.put(conn, documents.DESTINATION, ctx.account_id, ctx.region, name, destination)
            return destination

        return {"destination": _destination_view(await self.platform.db.write(run))}

    async def put_destination_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        _valid_json(params["accessPolicy"], "Access policy")

        def run(conn: Connection) -> None:
            destination = _destination(conn, ctx, params["destinationName"])
            destination["accessPolicy"] = params["accessPolicy"]
            documents.put(conn, documents.DESTINATION, ctx.account_id, ctx.region, params["destinationName"],
                          destination)

        await self.platform.db.write(run)

    async def describe_destinations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.platform.db.read(lambda conn: documents.listing(
            conn, documents.DESTINATION, ctx.account_id, ctx.region, params.get("nextToken"),
            params.get("limit") or 50, params.get("DestinationNamePrefix") or ""))
        return paging.answer(found, "destinations", _destination_view, token_key="nextToken")

    async def delete_destination(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(conn: Connection) -> None:
            _destination(conn, ctx, params["destinationName"])
            documents.delete(conn, documents.DESTINATION, ctx.account_id, ctx.region, params["destinationName"])

        await self.platform.db.write(run)


def _destination(conn: Connection, ctx: RequestContext, name: str) -> dict[str, Any]:
    found = documents.get(conn, documents.DESTINATION, ctx.account_id, ctx.region, name)
    if found is None:
        raise AwsError("ResourceNotFoundException", "The specified destination does not exist.")
    return found


def _destination_view(destination: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in destination.items() if key != "tags"}

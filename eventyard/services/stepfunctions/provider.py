"""Step Functions operations: the provider is the union of the operation groups (state machines,
versions, aliases and tags here; executions, activities and tokens, Map Runs in their own modules),
all thin mappings onto machines (definitions), the runner (executions) and the ASL engine."""

from __future__ import annotations

import json
from typing import Any

from eventyard.asl import definition as asl_definition
from eventyard.asl.errors import InvalidDefinition
from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.cross_account import refuse_other_accounts
from eventyard.services.iam.trust import service_may_assume
from eventyard.services.stepfunctions import execution_logs, machines, names
from eventyard.services.stepfunctions.core import page
from eventyard.services.stepfunctions.execution_ops import ExecutionOperations
from eventyard.services.stepfunctions.map_run_ops import MapRunOperations
from eventyard.services.stepfunctions.task_ops import ActivityOperations
from eventyard.services.stepfunctions.test_state import TestStateOperations
from eventyard.storage import Connection


def _parse_definition(text: str, express: bool = False) -> dict[str, Any]:
    try:
        return asl_definition.parse(text, express)
    except InvalidDefinition as err:
        raise AwsError("InvalidDefinition", err.message) from None


async def _check_role(platform: Any, role_arn: str, region: str) -> None:
    """AWS refuses a role that does not exist or does not trust states.amazonaws.com (or its regional form)."""
    if not await service_may_assume(platform, role_arn, "states.amazonaws.com", region):
        raise AwsError("AccessDeniedException", "Neither the global service principal states.amazonaws.com, nor the "
                                                "regional one is authorized to assume the provided role.")


def _check_version_description(params: dict[str, Any]) -> None:
    if params.get("versionDescription") is not None and not params.get("publish"):
        raise AwsError("ValidationException", "Version description can only be set when publish is true")


def _check_routes(routes: list[dict[str, Any]]) -> None:
    """An alias's routes as AWS checks them before looking anything up: version ARNs, each once,
    weights adding up to 100 (each message lists what it received)."""
    arns = [r["stateMachineVersionArn"] for r in routes]
    if any(not (names.split_qualified(a)[1] or "").isdigit() for a in arns):
        raise AwsError("ValidationException", "Routing configuration must contain state machine version ARNs. "
                       f"Received: [{', '.join(arns)}]")
    if len(set(arns)) != len(arns):
        raise AwsError("ValidationException", "Routing configuration must contain distinct state machine version "
                       f"ARNs. Received: [{', '.join(arns)}]")
    weights = [r["weight"] for r in routes]
    if sum(weights) != 100:
        raise AwsError("ValidationException", "Sum of routing configuration weights must equal 100. "
                       f"Received: [{', '.join(str(w) for w in weights)}]")


# Parameters that name a state machine, execution, activity or Map Run by ARN.
_RESOURCE_PARAMETERS = ("stateMachineArn", "executionArn", "resourceArn", "mapRunArn", "activityArn",
                        "stateMachineAliasArn", "stateMachineVersionArn")


class StepFunctionsProvider(ExecutionOperations, ActivityOperations, MapRunOperations, TestStateOperations):
    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        """Step Functions has no resource policies: another account's resources are never reachable."""
        refuse_other_accounts(ctx, f"states:{operation}", params, _RESOURCE_PARAMETERS,
                              lambda message: AwsError("AccessDeniedException", message))

    # -- state machines --------------------------------------------------------------------------
    async def create_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names.validate_name(params["name"])
        _check_version_description(params)
        text = params["definition"]
        kind = params.get("type", "STANDARD")
        _parse_definition(text, express=kind == "EXPRESS")
        if kind == "EXPRESS" and params["name"].endswith(".fifo"):
            raise AwsError("InvalidName", f"Invalid Name: '{params['name']}'")
        await _check_role(self.platform, params["roleArn"], ctx.region)
        params = dict(params, loggingConfiguration=await execution_logs.check(self.platform,
                                                                             params.get("loggingConfiguration")))
        arn = names.machine_arn(ctx.region, ctx.account_id, params["name"])
        now = self.now()
        return await self._write(lambda conn: machines.create(conn, arn, ctx.account_id, ctx.region, params, now, text))

    async def describe_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        names.check_arn(arn, "stateMachine")

        def read(conn: Connection) -> dict[str, Any]:
            base, qualifier = names.split_qualified(arn)
            row = machines.get(conn, base)
            out = machines.describe(row)
            if qualifier is not None:
                version = machines.version_row(conn, arn)
                out.pop("variableReferences", None)
                out.update(stateMachineArn=arn, definition=version["definition"], roleArn=version["role_arn"],
                           creationDate=version["created_at"], **machines.definition_details(version["definition"]))
                out.pop("revisionId", None)
                if version["revision_id"] != machines.NO_REVISION:
                    out["revisionId"] = version["revision_id"]
                if version["description"]:
                    out["description"] = version["description"]
            return out

        return await self._read(read)

    async def update_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        names.check_arn(arn, "stateMachine")
        _check_version_description(params)
        text = params.get("definition")
        if text is not None:
            _parse_definition(text)
        if text is None and not any(k in params for k in ("roleArn", "loggingConfiguration", "tracingConfiguration")):
            raise AwsError("MissingRequiredParameter",
                           "Either the definition, the role ARN, the LoggingConfiguration, or the "
                           "TracingConfiguration must be specified")
        if "roleArn" in params:
            await _check_role(self.platform, params["roleArn"], ctx.region)
        if "loggingConfiguration" in params:
            params = dict(params, loggingConfiguration=await execution_logs.check(self.platform,
                                                                                 params["loggingConfiguration"]))
        now = self.now()
        return await self._write(lambda conn: machines.update(conn, arn, params, text, now))

    async def delete_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        names.check_arn(arn, "stateMachine")
        await self._write(lambda conn: machines.delete(conn, arn))
        return {}

    async def list_state_machines(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rows = await self._read(lambda conn: conn.execute(
            "SELECT * FROM sfn_state_machines WHERE account_id = ? AND region = ? ORDER BY name",
            (ctx.account_id, ctx.region)).fetchall())
        items = [{"stateMachineArn": r["arn"], "name": r["name"], "type": r["type"], "creationDate": r["created_at"]}
                 for r in rows]
        chunk, token = page(items, params)
        return {"stateMachines": chunk, **({"nextToken": token} if token else {})}

    async def validate_state_machine_definition(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        diags, _ = asl_definition.check(params["definition"], express=params.get("type") == "EXPRESS")
        limit = params.get("maxResults") or 100
        return {"result": "FAIL" if diags else "OK", "diagnostics": [d.as_dict() for d in diags[:limit]],
                "truncated": len(diags) > limit}

    # -- versions and aliases --------------------------------------------------------------------
    async def publish_state_machine_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        names.check_arn(arn, "stateMachine")
        now = self.now()

        def run(conn: Connection) -> dict[str, Any]:
            machine = machines.get(conn, arn)
            if params.get("revisionId") and params["revisionId"] != machine["revision_id"]:
                raise AwsError("ConflictException", "Failed to publish the State Machine version for revision "
                               f"{params['revisionId']}. The current State Machine revision is "
                               f"{machine['revision_id']}.")
            version_arn = machines.publish(conn, arn, params.get("description"), now)
            created = machines.version_row(conn, version_arn)["created_at"]
            return {"stateMachineVersionArn": version_arn, "creationDate": created}

        return await self._write(run)

    async def list_state_machine_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]

        def read(conn: Connection) -> list[Any]:
            machines.get(conn, arn)
            return conn.execute("SELECT * FROM sfn_versions WHERE machine_arn = ? ORDER BY version DESC",
                                (arn,)).fetchall()

        rows = await self._read(read)
        chunk, token = page([{"stateMachineVersionArn": r["arn"], "creationDate": r["created_at"]} for r in rows],
                             params)
        return {"stateMachineVersions": chunk, **({"nextToken": token} if token else {})}

    async def delete_state_machine_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineVersionArn"]

        def run(conn: Connection) -> None:
            used = conn.execute("SELECT name, routing FROM sfn_aliases ORDER BY name").fetchall()
            referencing = [r["name"] for r in used
                           if any(route["stateMachineVersionArn"] == arn for route in json.loads(r["routing"]))]
            if referencing:
                raise AwsError("ConflictException", f"Version to be deleted must not be referenced by an alias. "
                               f"Current list of aliases referencing this version: [{', '.join(referencing)}]")
            conn.execute("DELETE FROM sfn_versions WHERE arn = ?", (arn,))

        await self._write(run)
        return {}

    def _check_routing(self, conn: Connection, machine: str, routes: list[dict[str, Any]]) -> None:
        _check_routes(routes)
        for route in routes:
            version = machines.version_row(conn, route["stateMachineVersionArn"])
            if version["machine_arn"] != machine:
                raise AwsError("ValidationException", "Routing configuration must contain state machine version "
                               "ARNs of the same state machine")

    async def create_state_machine_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        routes = params["routingConfiguration"]
        _check_routes(routes)
        machine = names.split_qualified(routes[0]["stateMachineVersionArn"])[0]
        arn = f"{machine}:{params['name']}"
        now = self.now()

        def run(conn: Connection) -> dict[str, Any]:
            machines.get(conn, machine)
            self._check_routing(conn, machine, routes)
            existing = conn.execute("SELECT * FROM sfn_aliases WHERE arn = ?", (arn,)).fetchone()
            if existing is not None:
                if json.loads(existing["routing"]) == routes and existing["description"] == params.get("description"):
                    return {"stateMachineAliasArn": arn, "creationDate": existing["created_at"]}
                raise AwsError("ConflictException", "Failed to create alias because an alias with the same name "
                               "and a different routing configuration already exists.")
            conn.execute("INSERT INTO sfn_aliases VALUES (?,?,?,?,?,?,?)",
                         (arn, machine, params["name"], params.get("description"), json.dumps(routes), now, now))
            return {"stateMachineAliasArn": arn, "creationDate": now}

        return await self._write(run)

    async def describe_state_machine_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = await self._read(lambda conn: machines.alias_row(conn, params["stateMachineAliasArn"]))
        out = {"stateMachineAliasArn": row["arn"], "name": row["name"],
               "routingConfiguration": json.loads(row["routing"]), "creationDate": row["created_at"],
               "updateDate": row["updated_at"]}
        if row["description"]:
            out["description"] = row["description"]
        return out

    async def update_state_machine_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineAliasArn"]
        now = self.now()

        def run(conn: Connection) -> dict[str, Any]:
            row = conn.execute("SELECT * FROM sfn_aliases WHERE arn = ?", (arn,)).fetchone()
            if row is None:
                raise AwsError("ResourceNotFound", "Request references a resource that does not exist.")
            routes = params.get("routingConfiguration") or json.loads(row["routing"])
            self._check_routing(conn, row["machine_arn"], routes)
            conn.execute("UPDATE sfn_aliases SET routing = ?, description = ?, updated_at = ? WHERE arn = ?",
                         (json.dumps(routes), params.get("description", row["description"]), now, arn))
            return {"updateDate": now}

        return await self._write(run)

    async def delete_state_machine_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineAliasArn"]
        await self._write(lambda conn: conn.execute("DELETE FROM sfn_aliases WHERE arn = ?", (arn,)))
        return {}

    async def list_state_machine_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]

        def read(conn: Connection) -> list[Any]:
            machines.get(conn, names.split_qualified(arn)[0])
            return conn.execute("SELECT * FROM sfn_aliases WHERE machine_arn = ? ORDER BY name",
                                (names.split_qualified(arn)[0],)).fetchall()

        rows = await self._read(read)
        chunk, token = page([{"stateMachineAliasArn": r["arn"], "creationDate": r["created_at"]} for r in rows],
                             params)
        return {"stateMachineAliases": chunk, **({"nextToken": token} if token else {})}

    # -- tags ------------------------------------------------------------------------------------
    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceArn"]

        def run(conn: Connection) -> None:
            table = "sfn_activities" if ":activity:" in arn else "sfn_state_machines"
            row = conn.execute(f"SELECT tags FROM {table} WHERE arn = ?", (arn,)).fetchone()
            if row is None:
                raise AwsError("ResourceNotFound", f"Resource not found: '{arn}'")
            tags = json.loads(row["tags"])
            tags.update({t["key"]: t.get("value", "") for t in params["tags"]})
            conn.execute(f"UPDATE {table} SET tags = ? WHERE arn = ?", (json.dumps(tags), arn))

        await self._write(run)
        return {}

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceArn"]

        def run(conn: Connection) -> None:
            table = "sfn_activities" if ":activity:" in arn else "sfn_state_machines"
            row = conn.execute(f"SELECT tags FROM {table} WHERE arn = ?", (arn,)).fetchone()
            if row is None:
                raise AwsError("ResourceNotFound", f"Resource not found: '{arn}'")
            tags = {k: v for k, v in json.loads(row["tags"]).items() if k not in params["tagKeys"]}
            conn.execute(f"UPDATE {table} SET tags = ? WHERE arn = ?", (json.dumps(tags), arn))

        await self._write(run)
        return {}

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceArn"]

        def read(conn: Connection) -> dict[str, str]:
            table = "sfn_activities" if ":activity:" in arn else "sfn_state_machines"
            row = conn.execute(f"SELECT tags FROM {table} WHERE arn = ?", (arn,)).fetchone()
            if row is None:
                raise AwsError("ResourceNotFound", f"Resource not found: '{arn}'")
            return dict(json.loads(row["tags"]))

        tags = await self._read(read)
        return {"tags": [{"key": k, "value": v} for k, v in tags.items()]}

"""Amazon EventBridge Schema Registry operations, each inside one storage call.

The provider also hooks the registry into EventBridge's PutEvents (discovery and opt-in validation,
see intake.py) and runs the discovery loop under the supervisor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from eventyard.runtime.ids import new_uuid
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.cross_account import refuse_other_accounts
from eventyard.services.schemas import bindings, discoverers, store
from eventyard.services.schemas.documents import parse_content, to_json_schema
from eventyard.services.schemas.errors import bad_request, forbidden, not_found, precondition_failed
from eventyard.services.schemas.inference import infer_event, merge_documents
from eventyard.services.schemas.intake import VALIDATE_TAG, Intake
from eventyard.storage import Connection

T = TypeVar("T")
DISCOVERY_INTERVAL = 1.0
SCOPES = {"LOCAL", "AWS"}


def _page(items: list[Any], params: dict[str, Any], key: str) -> dict[str, Any]:
    limit = params.get("Limit")
    if limit is not None and limit < 1:  # a page holds at least one item
        raise bad_request(f"Invalid Limit: {limit}. The limit must be a positive number.")
    found = paging.in_memory(items, params.get("NextToken"), limit or 100, f"schemas:{key}",
                             lambda _: bad_request("Invalid NextToken."))
    return paging.answer(found, key)


def _schema_answer(schema: store.Schema, row: Any, content: bool = False) -> dict[str, Any]:
    answer = {"SchemaArn": schema.arn, "SchemaName": schema.name, "SchemaVersion": str(row["version"]),
              "Type": row["type"], "LastModified": schema.last_modified, "VersionCreatedDate": row["created_at"],
              "Tags": schema.tags}
    if schema.description is not None:
        answer["Description"] = schema.description
    if content:
        answer["Content"] = row["content"]
    return answer


def _registry_answer(registry: store.Registry) -> dict[str, Any]:
    answer = {"RegistryArn": registry.arn, "RegistryName": registry.name, "Tags": registry.tags}
    if registry.description is not None:
        answer["Description"] = registry.description
    return answer


class SchemasProvider(Provider):
    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.intake = Intake(platform)

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        """Tags of another account's registry, schema or discoverer are never reachable by ARN
        (registry policies are stored, not evaluated: a registry is found by name in the caller's account)."""
        refuse_other_accounts(ctx, f"schemas:{operation}", params, ("ResourceArn",), forbidden)

    async def start(self) -> None:
        await self.intake.reload()

        async def step() -> None:
            await self.intake.discover()
        self.platform.supervisor.loop("schemas:discovery", step, DISCOVERY_INTERVAL, wake=self.intake.wake)

    async def _read(self, ctx: RequestContext, fn: Callable[[Connection], T]) -> T:
        now = self.platform.clock.now()

        def run(conn: Connection) -> T:
            store.ensure_managed(conn, ctx.account_id, ctx.region, now)
            return fn(conn)
        return await self.platform.db.write(run)  # the managed registries may appear on first use

    async def _write(self, ctx: RequestContext, fn: Callable[[Connection], T]) -> T:
        return await self._read(ctx, fn)

    # -- registries ------------------------------------------------------------------------
    async def create_registry(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.platform.clock.now()
        registry = await self._write(ctx, lambda conn: store.create_registry(
            conn, ctx.account_id, ctx.region, params["RegistryName"], params.get("Description"),
            params.get("Tags") or {}, now))
        if VALIDATE_TAG in registry.tags:
            await self.intake.reload()
        return _registry_answer(registry)

    async def describe_registry(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return _registry_answer(await self._read(ctx, lambda conn: store.get_registry(
            conn, ctx.account_id, ctx.region, params["RegistryName"])))

    async def update_registry(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> store.Registry:
            registry = store.get_registry(conn, ctx.account_id, ctx.region, params["RegistryName"])
            if registry.scope == "AWS":
                raise forbidden(f"Registry {registry.name} is managed by AWS and cannot be changed.")
            store.update_registry(conn, registry, params.get("Description"))
            return store.get_registry(conn, ctx.account_id, ctx.region, registry.name)
        return _registry_answer(await self._write(ctx, run))

    async def delete_registry(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._write(ctx, lambda conn: store.delete_registry(conn, store.get_registry(
            conn, ctx.account_id, ctx.region, params["RegistryName"])))
        await self.intake.reload()

    async def list_registries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("Scope")
        if scope is not None and scope not in SCOPES:
            raise bad_request("Invalid Scope: the scope must be LOCAL or AWS.")
        registries = await self._read(ctx, lambda conn: store.list_registries(conn, ctx.account_id, ctx.region))
        prefix = params.get("RegistryNamePrefix") or ""
        found = [{"RegistryArn": r.arn, "RegistryName": r.name, "Tags": r.tags} for r in registries
                 if r.name.startswith(prefix) and scope in (None, r.scope)]
        return _page(found, params, "Registries")

    # -- schemas ---------------------------------------------------------------------------
    async def create_schema(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        parse_content(params["Type"], params["Content"])
        now = self.platform.clock.now()

        def run(conn: Connection) -> dict[str, Any]:
            registry = store.get_registry(conn, ctx.account_id, ctx.region, params["RegistryName"])
            if registry.scope == "AWS":
                raise forbidden(f"Registry {registry.name} is managed by AWS and cannot be changed.")
            if store.find_schema(conn, registry, params["SchemaName"]) is not None:
                raise bad_request(f"Schema with name {params['SchemaName']} already exists.")
            store.put_schema(conn, ctx.account_id, ctx.region, registry.name, params["SchemaName"], params["Type"],
                             params["Content"], params.get("Description"), params.get("Tags") or {}, now)
            schema = store.get_schema(conn, registry, params["SchemaName"])
            return _schema_answer(schema, store.version(conn, schema, None))

        answer = await self._write(ctx, run)
        self.intake.forget_registry(ctx.account_id, ctx.region, params["RegistryName"])
        return answer

    async def update_schema(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.platform.clock.now()

        def run(conn: Connection) -> dict[str, Any]:
            schema = self._schema_of(ctx, params, writing=True)(conn)
            registry = store.get_registry(conn, ctx.account_id, ctx.region, params["RegistryName"])
            if params.get("Content"):
                kind = params.get("Type") or schema.type
                parse_content(kind, params["Content"])
                latest = store.version(conn, schema, None)
                if params["Content"] != latest["content"] or kind != latest["type"]:
                    store.put_schema(conn, ctx.account_id, ctx.region, registry.name, schema.name, kind,
                                     params["Content"], None, {}, now)
            elif params.get("Type"):
                raise bad_request("Content is required when Type is given.")
            if "Description" in params:
                store.set_schema_description(conn, schema, params["Description"], now)
            schema = store.get_schema(conn, registry, schema.name)
            return _schema_answer(schema, store.version(conn, schema, None))

        answer = await self._write(ctx, run)
        self.intake.forget_registry(ctx.account_id, ctx.region, params["RegistryName"])
        return answer

    def _schema_of(self, ctx: RequestContext, params: dict[str, Any],
                   writing: bool = False) -> Callable[[Connection], store.Schema]:
        def find(conn: Connection) -> store.Schema:
            registry = store.get_registry(conn, ctx.account_id, ctx.region, params["RegistryName"])
            if writing and registry.scope == "AWS":
                raise forbidden(f"Registry {registry.name} is managed by AWS and cannot be changed.")
            return store.get_schema(conn, registry, params["SchemaName"])
        return find

    async def describe_schema(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> dict[str, Any]:
            schema = self._schema_of(ctx, params)(conn)
            return _schema_answer(schema, store.version(conn, schema, params.get("SchemaVersion")), content=True)
        return await self._read(ctx, run)

    async def delete_schema(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._write(ctx, lambda conn: store.delete_schema(conn, self._schema_of(ctx, params, True)(conn)))
        self.intake.forget_registry(ctx.account_id, ctx.region, params["RegistryName"])

    async def delete_schema_version(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._write(ctx, lambda conn: store.delete_version(conn, self._schema_of(ctx, params, True)(conn),
                                                                  params["SchemaVersion"]))
        self.intake.forget_registry(ctx.account_id, ctx.region, params["RegistryName"])

    async def list_schemas(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> list[dict[str, Any]]:
            registry = store.get_registry(conn, ctx.account_id, ctx.region, params["RegistryName"])
            prefix = params.get("SchemaNamePrefix") or ""
            return [{"SchemaArn": s.arn, "SchemaName": s.name, "LastModified": s.last_modified, "Tags": s.tags,
                     "VersionCount": len(store.versions(conn, s))}
                    for s in store.list_schemas(conn, registry) if s.name.startswith(prefix)]
        return _page(await self._read(ctx, run), params, "Schemas")

    async def list_schema_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> list[dict[str, Any]]:
            schema = self._schema_of(ctx, params)(conn)
            return [{"SchemaArn": schema.arn, "SchemaName": schema.name, "SchemaVersion": str(v["version"]),
                     "Type": v["type"]} for v in store.versions(conn, schema)]
        return _page(await self._read(ctx, run), params, "SchemaVersions")

    async def search_schemas(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """AWS matches the keywords against schema names and contents."""
        keywords = [k.lower() for k in params["Keywords"].split() if k]

        def run(conn: Connection) -> list[dict[str, Any]]:
            registry = store.get_registry(conn, ctx.account_id, ctx.region, params["RegistryName"])
            found = []
            for schema in store.list_schemas(conn, registry):
                rows = store.versions(conn, schema)
                text = (schema.name + " " + rows[-1]["content"]).lower() if rows else schema.name.lower()
                if all(k in text for k in keywords):
                    found.append({"RegistryName": registry.name, "SchemaArn": schema.arn, "SchemaName": schema.name,
                                  "SchemaVersions": [{"CreatedDate": v["created_at"], "SchemaVersion": str(v["version"]),
                                                      "Type": v["type"]} for v in rows]})
            return found
        return _page(await self._read(ctx, run), params, "Schemas")

    async def export_schema(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params["Type"] != "JSONSchemaDraft4":
            raise bad_request(f"Invalid Type: schemas are exported as JSONSchemaDraft4, not {params['Type']}.")

        def run(conn: Connection) -> dict[str, Any]:
            schema = self._schema_of(ctx, params)(conn)
            row = store.version(conn, schema, params.get("SchemaVersion"))
            exported = to_json_schema(json.loads(row["content"]))
            return {"Content": json.dumps(exported), "SchemaArn": schema.arn, "SchemaName": schema.name,
                    "SchemaVersion": str(row["version"]), "Type": "JSONSchemaDraft4"}
        return await self._read(ctx, run)

    async def get_discovered_schema(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] | None = None
        for text in params["Events"]:
            try:
                event = json.loads(text)
            except ValueError:
                raise bad_request("Invalid Events: each event must be a JSON EventBridge event.") from None
            if not isinstance(event, dict) or "detail-type" not in event or "source" not in event:
                raise bad_request("Invalid Events: each event must be an EventBridge event with a source and a "
                                  "detail-type.")
            inferred = infer_event(event)
            document = inferred if document is None else merge_documents(document, inferred)
        assert document is not None
        if params["Type"] == "JSONSchemaDraft4":
            document = to_json_schema(document)
        return {"Content": json.dumps(document)}

    # -- code bindings ---------------------------------------------------------------------
    async def put_code_binding(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        language = params["Language"]
        if language not in bindings.AWS_LANGUAGES:
            raise bad_request(f"Invalid Language: {language} is not one of {', '.join(bindings.AWS_LANGUAGES)}.")
        if language not in bindings.GENERATORS:
            raise bad_request(f"Eventyard generates code bindings for {', '.join(bindings.GENERATORS)}, not {language}.")
        now = self.platform.clock.now()

        def run(conn: Connection) -> dict[str, Any]:
            schema = self._schema_of(ctx, params)(conn)
            row = store.version(conn, schema, params.get("SchemaVersion"))
            version = str(row["version"])
            existing = conn.execute("SELECT created_at FROM schemas_code_bindings WHERE schema_arn = ? AND version = ?"
                                    " AND language = ?", (schema.arn, row["version"], language)).fetchone()
            if existing is None:
                source = bindings.generate(language, to_json_schema(json.loads(row["content"])), schema.name, version)
                conn.execute("INSERT INTO schemas_code_bindings (schema_arn, version, language, status, source,"
                             " created_at, modified_at) VALUES (?, ?, ?, 'CREATE_COMPLETE', ?, ?, ?)",
                             (schema.arn, row["version"], language, source, now, now))
            created = existing["created_at"] if existing else now
            # AWS answers 202 while it generates; DescribeCodeBinding then reports CREATE_COMPLETE.
            return {"CreationDate": created, "LastModified": created, "SchemaVersion": version,
                    "Status": "CREATE_COMPLETE" if existing else "CREATE_IN_PROGRESS"}
        return await self._write(ctx, run)

    def _binding(self, ctx: RequestContext, params: dict[str, Any]) -> Callable[[Connection], Any]:
        def find(conn: Connection) -> Any:
            schema = self._schema_of(ctx, params)(conn)
            row = store.version(conn, schema, params.get("SchemaVersion"))
            binding = conn.execute("SELECT * FROM schemas_code_bindings WHERE schema_arn = ? AND version = ? AND"
                                   " language = ?", (schema.arn, row["version"], params["Language"])).fetchone()
            if binding is None:
                raise not_found(f"Code binding for language {params['Language']} of schema {schema.name} version "
                                f"{row['version']} does not exist.")
            return binding
        return find

    async def describe_code_binding(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        binding = await self._read(ctx, self._binding(ctx, params))
        return {"CreationDate": binding["created_at"], "LastModified": binding["modified_at"],
                "SchemaVersion": str(binding["version"]), "Status": binding["status"]}

    async def get_code_binding_source(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        binding = await self._read(ctx, self._binding(ctx, params))
        return {"Body": bytes(binding["source"])}

    # -- discoverers -----------------------------------------------------------------------
    async def create_discoverer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        answer = await self._write(ctx, lambda conn: discoverers.create(conn, ctx.account_id, ctx.region, params))
        await self.intake.reload()
        return answer

    async def describe_discoverer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._read(ctx, lambda conn: discoverers.get(conn, ctx.account_id, ctx.region,
                                                                  params["DiscovererId"]))

    async def update_discoverer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._write(ctx, lambda conn: discoverers.update(conn, ctx.account_id, ctx.region, params))

    async def delete_discoverer(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._write(ctx, lambda conn: discoverers.delete(conn, ctx.account_id, ctx.region,
                                                               params["DiscovererId"]))
        await self.intake.reload()

    async def _discoverer_state(self, ctx: RequestContext, identifier: str, state: str) -> dict[str, Any]:
        await self._write(ctx, lambda conn: discoverers.set_state(conn, ctx.account_id, ctx.region, identifier, state))
        await self.intake.reload()
        return {"DiscovererId": identifier, "State": state}

    async def start_discoverer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._discoverer_state(ctx, params["DiscovererId"], "STARTED")

    async def stop_discoverer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._discoverer_state(ctx, params["DiscovererId"], "STOPPED")

    async def list_discoverers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self._read(ctx, lambda conn: discoverers.listed(conn, ctx.account_id, ctx.region))
        found = [{k: v for k, v in d.items() if k != "Description"} for d in found
                 if d["DiscovererId"].startswith(params.get("DiscovererIdPrefix") or "")
                 and d["SourceArn"].startswith(params.get("SourceArnPrefix") or "")]
        return _page(found, params, "Discoverers")

    # -- resource policies -----------------------------------------------------------------
    def _policy_registry(self, ctx: RequestContext, params: dict[str, Any]) -> Callable[[Connection], store.Registry]:
        def find(conn: Connection) -> store.Registry:
            if not params.get("RegistryName"):
                raise bad_request("RegistryName is required.")
            return store.get_registry(conn, ctx.account_id, ctx.region, params["RegistryName"])
        return find

    async def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = params["Policy"]
        text = policy if isinstance(policy, str) else json.dumps(policy)
        try:
            json.loads(text)
        except ValueError:
            raise bad_request("Invalid Policy: the policy is not valid JSON.") from None

        def run(conn: Connection) -> dict[str, Any]:
            registry = self._policy_registry(ctx, params)(conn)
            given = params.get("RevisionId")
            if given is not None and given != registry.policy_revision:
                raise precondition_failed("The RevisionId does not match the current revision of the policy.")
            revision = new_uuid()
            store.set_policy(conn, registry, text, revision)
            return {"Policy": text, "RevisionId": revision}
        return await self._write(ctx, run)

    async def get_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        registry = await self._read(ctx, self._policy_registry(ctx, params))
        if registry.policy is None:
            raise not_found(f"Resource policy for registry {registry.name} does not exist.")
        return {"Policy": registry.policy, "RevisionId": registry.policy_revision}

    async def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(conn: Connection) -> None:
            registry = self._policy_registry(ctx, params)(conn)
            if registry.policy is None:
                raise not_found(f"Resource policy for registry {registry.name} does not exist.")
            store.set_policy(conn, registry, None, None)
        await self._write(ctx, run)

    # -- tags ------------------------------------------------------------------------------
    async def _tags(self, ctx: RequestContext, arn: str, change: Callable[[dict[str, str]], None] | None) -> dict[str, str]:
        def run(conn: Connection) -> dict[str, str]:
            tags = store.tags_of(conn, arn)
            if tags is None:
                raise not_found(f"Resource {arn} does not exist.")
            if change is not None:
                change(tags)
                store.set_tags(conn, arn, tags)
            return tags
        tags = await self._write(ctx, run)
        if change is not None and ":registry/" in arn:
            await self.intake.reload()
        return tags

    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._tags(ctx, params["ResourceArn"], lambda tags: tags.update(params["Tags"]))

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def remove(tags: dict[str, str]) -> None:
            for key in params["TagKeys"]:
                tags.pop(key, None)
        await self._tags(ctx, params["ResourceArn"], remove)

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": await self._tags(ctx, params["ResourceArn"], None)}

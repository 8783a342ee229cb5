"""Managed policies and their versions, as IAM's API shows them."""

from __future__ import annotations

from typing import Any

from eventyard.services.base import RequestContext
from eventyard.services.iam import documents, entities, policies
from eventyard.services.iam.core import IamCore, page, policy_shape
from eventyard.storage import Connection

_ENTITY_LISTS = {"role": ("PolicyRoles", "RoleName", "RoleId"), "user": ("PolicyUsers", "UserName", "UserId"),
                 "group": ("PolicyGroups", "GroupName", "GroupId")}


class PolicyOperations(IamCore):
    async def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        documents.check_identity_policy(params["PolicyDocument"])

        def create(conn: Connection) -> dict[str, Any]:
            policy = policies.create(conn, ctx.account_id, params["PolicyName"], params.get("Path", "/"),
                                     params["PolicyDocument"], self.now(), params.get("Description"),
                                     params.get("Tags") or [])
            shape = policy_shape(conn, ctx.account_id, policy)
            shape["Tags"] = policy.tags or None
            return shape

        return {"Policy": await self.write(create)}

    async def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Policy": await self.read(lambda conn: policy_shape(
            conn, ctx.account_id, policies.get(conn, ctx.account_id, params["PolicyArn"]), full=True))}

    async def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def listing(conn: Connection) -> list[dict[str, Any]]:
            found = policies.listing(conn, ctx.account_id, params.get("Scope", "All"), params.get("PathPrefix", "/"))
            shapes = [policy_shape(conn, ctx.account_id, p) for p in found]
            return [s for s in shapes if s["AttachmentCount"] or not params.get("OnlyAttached")]

        return page(await self.read(listing), params, lambda p: f"{p['PolicyName'].lower()} {p['Arn']}", "Policies")

    async def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: policies.delete(conn, policies.get(conn, ctx.account_id, params["PolicyArn"])))

    async def create_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        documents.check_identity_policy(params["PolicyDocument"])

        def add(conn: Connection) -> dict[str, Any]:
            policy = policies.get(conn, ctx.account_id, params["PolicyArn"])
            created = policies.add_version(conn, policy, params["PolicyDocument"], bool(params.get("SetAsDefault")),
                                           self.now())
            return created.shape(with_document=False)

        return {"PolicyVersion": await self.write(add)}

    async def get_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def get(conn: Connection) -> dict[str, Any]:
            policy = policies.get(conn, ctx.account_id, params["PolicyArn"])
            return policies.version(conn, policy, params["VersionId"]).shape()

        return {"PolicyVersion": await self.read(get)}

    async def list_policy_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def listing(conn: Connection) -> list[dict[str, Any]]:
            policy = policies.get(conn, ctx.account_id, params["PolicyArn"])
            return [v.shape(with_document=False) for v in policies.versions(conn, policy)]

        return page(await self.read(listing), params, lambda v: f"{99999 - int(v['VersionId'][1:]):05d}", "Versions")

    async def delete_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: policies.delete_version(
            conn, policies.get(conn, ctx.account_id, params["PolicyArn"]), params["VersionId"]))

    async def set_default_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: policies.set_default_version(
            conn, policies.get(conn, ctx.account_id, params["PolicyArn"]), params["VersionId"], self.now()))

    async def list_entities_for_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("EntityFilter")

        def listing(conn: Connection) -> dict[str, Any]:
            policies.get(conn, ctx.account_id, params["PolicyArn"])
            out: dict[str, Any] = {"PolicyRoles": [], "PolicyUsers": [], "PolicyGroups": []}
            for kind, key in entities.attached_to(conn, ctx.account_id, params["PolicyArn"]):
                entity = entities.find(conn, ctx.account_id, kind, key)
                if entity is None or (wanted and wanted.lower() != kind):
                    continue
                out_list, name_field, id_field = _ENTITY_LISTS[kind]
                out[out_list].append({name_field: entity.name, id_field: entity.entity_id})
            return out

        result = await self.read(listing)
        result["IsTruncated"] = False
        return result

    async def tag_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: policies.tag(conn, policies.get(conn, ctx.account_id, params["PolicyArn"]),
                                                   params["Tags"]))

    async def untag_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: policies.tag(conn, policies.get(conn, ctx.account_id, params["PolicyArn"]),
                                                   [], params["TagKeys"]))

    async def list_policy_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = await self.read(lambda conn: policies.get(conn, ctx.account_id, params["PolicyArn"]))
        return page(policy.tags, params, lambda t: t["Key"], "Tags")

    async def list_account_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"AccountAliases": [], "IsTruncated": False}

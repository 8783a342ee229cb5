"""What every group of IAM operations shares: storage calls, paging, the wire shapes of entities,
and the inline/attached policy operations that roles, users and groups have alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from eventyard.protocol.errors import AwsError
from eventyard.services.base import Provider, RequestContext
from eventyard.services.iam import documents, entities, policies
from eventyard.services.iam.entities import Entity
from eventyard.storage import Connection

T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100


def page(items: Sequence[T], params: dict[str, Any], key: Callable[[T], str], out_name: str) -> dict[str, Any]:
    """IAM's paging: MaxItems per page, an opaque Marker to continue, IsTruncated."""
    marker = params.get("Marker")
    start = 0
    if marker is not None:
        start = next((i for i, item in enumerate(items) if key(item) >= marker), len(items))
    size = params.get("MaxItems") or DEFAULT_MAX_ITEMS
    chosen = list(items[start:start + size])
    out: dict[str, Any] = {out_name: chosen, "IsTruncated": start + size < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = key(items[start + size])
    return out


def boundary_shape(entity: Entity) -> dict[str, Any] | None:
    if not entity.permissions_boundary:
        return None
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": entity.permissions_boundary}


def role_shape(role: Entity, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"Path": role.path, "RoleName": role.name, "RoleId": role.entity_id, "Arn": role.arn,
                           "CreateDate": role.created_at,
                           "AssumeRolePolicyDocument": documents.wire(role.trust_policy or ""),
                           "Description": role.description, "MaxSessionDuration": role.max_session_duration}
    if full:
        out.update(PermissionsBoundary=boundary_shape(role), Tags=role.tags or None, RoleLastUsed={})
    return out


def user_shape(user: Entity, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"Path": user.path, "UserName": user.name, "UserId": user.entity_id, "Arn": user.arn,
                           "CreateDate": user.created_at}
    if full:
        out.update(PermissionsBoundary=boundary_shape(user), Tags=user.tags or None)
    return out


def group_shape(group: Entity) -> dict[str, Any]:
    return {"Path": group.path, "GroupName": group.name, "GroupId": group.entity_id, "Arn": group.arn,
            "CreateDate": group.created_at}


def policy_shape(conn: Connection, account_id: str, policy: policies.Policy, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": policy.name, "PolicyId": policy.policy_id, "Arn": policy.arn, "Path": policy.path,
        "DefaultVersionId": policy.default_version,
        "AttachmentCount": policies.attachment_count(conn, account_id, policy.arn),
        "PermissionsBoundaryUsageCount": 0, "IsAttachable": True, "CreateDate": policy.created_at,
        "UpdateDate": policy.updated_at}
    if full:
        out.update(Description=policy.description, Tags=policy.tags or None)
    return out


class IamCore(Provider):
    """Storage access and the policy operations shared by roles, users and groups."""

    unsupported_error_code = "InvalidAction"

    def now(self) -> float:
        return float(self.platform.clock.now())

    async def write(self, fn: Callable[[Connection], T]) -> T:
        return await self.platform.db.write(fn)  # type: ignore[no-any-return]

    async def read(self, fn: Callable[[Connection], T]) -> T:
        return await self.platform.db.read(fn)  # type: ignore[no-any-return]

    # --- inline policies ------------------------------------------------------------------------
    async def put_inline(self, ctx: RequestContext, kind: str, name: str, policy_name: str, document: str) -> None:
        documents.check_identity_policy(document)

        def put(conn: Connection) -> None:
            entities.put_inline_policy(conn, entities.get(conn, ctx.account_id, kind, name), policy_name, document)

        await self.write(put)

    async def get_inline(self, ctx: RequestContext, kind: str, name: str, policy_name: str) -> str:
        return await self.read(lambda conn: entities.get_inline_policy(
            conn, entities.get(conn, ctx.account_id, kind, name), policy_name))

    async def delete_inline(self, ctx: RequestContext, kind: str, name: str, policy_name: str) -> None:
        await self.write(lambda conn: entities.delete_inline_policy(
            conn, entities.get(conn, ctx.account_id, kind, name), policy_name))

    async def list_inline(self, ctx: RequestContext, kind: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.read(lambda conn: entities.inline_policy_names(
            conn, entities.get(conn, ctx.account_id, kind, name)))
        return page(found, params, str, "PolicyNames")

    # --- attached managed policies --------------------------------------------------------------
    async def attach_policy(self, ctx: RequestContext, kind: str, name: str, policy_arn: str) -> None:
        def attach(conn: Connection) -> None:
            entity = entities.get(conn, ctx.account_id, kind, name)
            policies.attachable(conn, ctx.account_id, policy_arn)
            entities.attach(conn, entity, policy_arn)

        await self.write(attach)

    async def detach_policy(self, ctx: RequestContext, kind: str, name: str, policy_arn: str) -> None:
        await self.write(lambda conn: entities.detach(conn, entities.get(conn, ctx.account_id, kind, name), policy_arn))

    async def list_attached(self, ctx: RequestContext, kind: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("PathPrefix", "/")

        def attached(conn: Connection) -> list[dict[str, str]]:
            entity = entities.get(conn, ctx.account_id, kind, name)
            found = [policies.find(conn, ctx.account_id, arn) for arn in entities.attached_policy_arns(conn, entity)]
            return [{"PolicyName": p.name, "PolicyArn": p.arn} for p in found if p and p.path.startswith(prefix)]

        return page(await self.read(attached), params, lambda p: p["PolicyArn"], "AttachedPolicies")

    async def boundary(self, ctx: RequestContext, kind: str, name: str, policy_arn: str | None) -> None:
        def put(conn: Connection) -> None:
            entity = entities.get(conn, ctx.account_id, kind, name)
            if policy_arn is not None:
                policies.attachable(conn, ctx.account_id, policy_arn)
            entities.update(conn, entity, permissions_boundary=policy_arn)

        await self.write(put)

    def entity(self, conn: Connection, ctx: RequestContext, kind: str, name: str) -> Entity:
        return entities.get(conn, ctx.account_id, kind, name)

    @staticmethod
    def refuse_if(condition: bool, message: str) -> None:
        if condition:
            raise AwsError("DeleteConflict", message, 409)

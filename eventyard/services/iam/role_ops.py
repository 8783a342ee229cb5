"""IAM roles and instance profiles."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.iam import documents, entities, errors, policies
from eventyard.services.iam.core import IamCore, page, role_shape
from eventyard.services.iam.entities import Entity
from eventyard.storage import Connection

DEFAULT_MAX_SESSION = 3600


class RoleOperations(IamCore):
    async def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        trust = params["AssumeRolePolicyDocument"]
        documents.check_trust_policy(trust)
        boundary = params.get("PermissionsBoundary")

        def create(conn: Connection) -> Entity:
            if boundary:
                policies.attachable(conn, ctx.account_id, boundary)
            return entities.create(
                conn, ctx.account_id, "role", params["RoleName"], params.get("Path", "/"), self.now(),
                trust_policy=trust, description=params.get("Description"),
                max_session_duration=params.get("MaxSessionDuration", DEFAULT_MAX_SESSION),
                permissions_boundary=boundary, tags=params.get("Tags"))

        return {"Role": role_shape(await self.write(create))}

    async def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = await self.read(lambda conn: self.entity(conn, ctx, "role", params["RoleName"]))
        return {"Role": role_shape(role)}

    async def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.read(lambda conn: entities.listing(conn, ctx.account_id, "role", params.get("PathPrefix", "/")))
        out = page(found, params, lambda r: r.key, "Roles")
        out["Roles"] = [role_shape(r, full=False) for r in out["Roles"]]
        return out

    async def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def delete(conn: Connection) -> None:
            role = self.entity(conn, ctx, "role", params["RoleName"])
            self.refuse_if(bool(entities.attached_policy_arns(conn, role)),
                           "Cannot delete entity, must detach all policies first.")
            self.refuse_if(bool(entities.inline_policy_names(conn, role)),
                           "Cannot delete entity, must delete policies first.")
            self.refuse_if(bool(entities.containers_of(conn, role, "instance-profile")),
                           "Cannot delete entity, must remove roles from instance profile first.")
            entities.delete(conn, role)

        await self.write(delete)

    async def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        columns = {k: params[p] for p, k in (("Description", "description"),
                                             ("MaxSessionDuration", "max_session_duration")) if p in params}

        def update(conn: Connection) -> None:
            role = self.entity(conn, ctx, "role", params["RoleName"])
            if columns:
                entities.update(conn, role, **columns)

        await self.write(update)
        return {}

    async def update_role_description(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def update(conn: Connection) -> Entity:
            entities.update(conn, self.entity(conn, ctx, "role", params["RoleName"]), description=params["Description"])
            return self.entity(conn, ctx, "role", params["RoleName"])

        return {"Role": role_shape(await self.write(update))}

    async def update_assume_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        documents.check_trust_policy(params["PolicyDocument"])
        await self.write(lambda conn: entities.update(conn, self.entity(conn, ctx, "role", params["RoleName"]),
                                                      trust_policy=params["PolicyDocument"]))

    async def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: entities.tag(conn, self.entity(conn, ctx, "role", params["RoleName"]),
                                                   params["Tags"]))

    async def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: entities.untag(conn, self.entity(conn, ctx, "role", params["RoleName"]),
                                                     params["TagKeys"]))

    async def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = await self.read(lambda conn: self.entity(conn, ctx, "role", params["RoleName"]))
        return page(role.tags, params, lambda t: t["Key"], "Tags")

    async def put_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.put_inline(ctx, "role", params["RoleName"], params["PolicyName"], params["PolicyDocument"])

    async def get_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = await self.get_inline(ctx, "role", params["RoleName"], params["PolicyName"])
        return {"RoleName": params["RoleName"], "PolicyName": params["PolicyName"],
                "PolicyDocument": documents.wire(document)}

    async def delete_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.delete_inline(ctx, "role", params["RoleName"], params["PolicyName"])

    async def list_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.list_inline(ctx, "role", params["RoleName"], params)

    async def attach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.attach_policy(ctx, "role", params["RoleName"], params["PolicyArn"])

    async def detach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.detach_policy(ctx, "role", params["RoleName"], params["PolicyArn"])

    async def list_attached_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.list_attached(ctx, "role", params["RoleName"], params)

    async def put_role_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.boundary(ctx, "role", params["RoleName"], params["PermissionsBoundary"])

    async def delete_role_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.boundary(ctx, "role", params["RoleName"], None)

    # --- instance profiles ----------------------------------------------------------------------
    def _profile_shape(self, conn: Connection, profile: Entity) -> dict[str, Any]:
        return {"Path": profile.path, "InstanceProfileName": profile.name, "InstanceProfileId": profile.entity_id,
                "Arn": profile.arn, "CreateDate": profile.created_at, "Tags": profile.tags or None,
                "Roles": [role_shape(r, full=False) for r in entities.members(conn, profile, "role")]}

    async def create_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def create(conn: Connection) -> dict[str, Any]:
            profile = entities.create(conn, ctx.account_id, "instance-profile", params["InstanceProfileName"],
                                      params.get("Path", "/"), self.now(), tags=params.get("Tags"))
            return self._profile_shape(conn, profile)

        return {"InstanceProfile": await self.write(create)}

    async def get_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"InstanceProfile": await self.read(lambda conn: self._profile_shape(
            conn, self.entity(conn, ctx, "instance-profile", params["InstanceProfileName"])))}

    async def list_instance_profiles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def listing(conn: Connection) -> list[dict[str, Any]]:
            found = entities.listing(conn, ctx.account_id, "instance-profile", params.get("PathPrefix", "/"))
            return [self._profile_shape(conn, p) for p in found]

        return page(await self.read(listing), params, lambda p: p["InstanceProfileName"].lower(), "InstanceProfiles")

    async def list_instance_profiles_for_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def listing(conn: Connection) -> list[dict[str, Any]]:
            role = self.entity(conn, ctx, "role", params["RoleName"])
            return [self._profile_shape(conn, p) for p in entities.containers_of(conn, role, "instance-profile")]

        return page(await self.read(listing), params, lambda p: p["InstanceProfileName"].lower(), "InstanceProfiles")

    async def delete_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def delete(conn: Connection) -> None:
            profile = self.entity(conn, ctx, "instance-profile", params["InstanceProfileName"])
            self.refuse_if(bool(entities.members(conn, profile, "role")),
                           "Cannot delete entity, must remove roles from instance profile first.")
            entities.delete(conn, profile)

        await self.write(delete)

    async def add_role_to_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def add(conn: Connection) -> None:
            profile = self.entity(conn, ctx, "instance-profile", params["InstanceProfileName"])
            role = self.entity(conn, ctx, "role", params["RoleName"])
            if entities.members(conn, profile, "role"):
                raise errors.limit_exceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
            entities.add_member(conn, profile, role)

        await self.write(add)

    async def remove_role_from_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def remove(conn: Connection) -> None:
            profile = self.entity(conn, ctx, "instance-profile", params["InstanceProfileName"])
            role = self.entity(conn, ctx, "role", params["RoleName"])
            if not entities.remove_member(conn, profile, role):
                raise AwsError("NoSuchEntity", f"The role with name {params['RoleName']} cannot be found.", 404)

        await self.write(remove)


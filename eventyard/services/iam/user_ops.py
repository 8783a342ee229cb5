"""IAM users, groups and users' access keys."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.iam import access_keys, documents, entities, policies
from eventyard.services.iam.core import IamCore, group_shape, page, user_shape
from eventyard.services.iam.entities import Entity
from eventyard.storage import Connection


class UserOperations(IamCore):
    async def caller_user_name(self, ctx: RequestContext) -> str | None:
        """The IAM user whose access key signed the request, if it was one."""
        if not ctx.access_key:
            return None
        key = await self.read(lambda conn: access_keys.find(conn, ctx.access_key or ""))
        if key is None or key.account_id != ctx.account_id:
            return None
        user = await self.read(lambda conn: entities.find(conn, ctx.account_id, "user", key.user_key))
        return user.name if user else None

    async def create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        boundary = params.get("PermissionsBoundary")

        def create(conn: Connection) -> Entity:
            if boundary:
                policies.attachable(conn, ctx.account_id, boundary)
            return entities.create(conn, ctx.account_id, "user", params["UserName"], params.get("Path", "/"),
                                   self.now(), permissions_boundary=boundary, tags=params.get("Tags"))

        return {"User": user_shape(await self.write(create))}

    async def get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("UserName") or await self.caller_user_name(ctx)
        if name is None:  # the account's root user, as AWS answers it
            return {"User": {"UserId": ctx.account_id, "Arn": f"arn:aws:iam::{ctx.account_id}:root",
                             "CreateDate": 0.0}}
        return {"User": user_shape(await self.read(lambda conn: self.entity(conn, ctx, "user", name)))}

    async def list_users(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.read(lambda conn: entities.listing(conn, ctx.account_id, "user", params.get("PathPrefix", "/")))
        out = page(found, params, lambda u: u.key, "Users")
        out["Users"] = [user_shape(u, full=False) for u in out["Users"]]
        return out

    async def update_user(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def update(conn: Connection) -> None:
            user = self.entity(conn, ctx, "user", params["UserName"])
            new_name = params.get("NewUserName", user.name)
            if new_name.lower() != user.key and entities.find(conn, ctx.account_id, "user", new_name):
                raise AwsError("EntityAlreadyExists", f"User with name {new_name} already exists.", 409)
            conn.execute("UPDATE iam_entities SET name = ?, name_key = ?, path = ? WHERE account_id = ? AND kind = ? "
                         "AND name_key = ?", (new_name, new_name.lower(), params.get("NewPath", user.path),
                                              ctx.account_id, "user", user.key))
            for table, column in (("iam_access_keys", "user_key"), ("iam_memberships", "member_key")):
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE account_id = ? AND {column} = ?",
                             (new_name.lower(), ctx.account_id, user.key))
            for table in ("iam_inline_policies", "iam_attachments"):
                conn.execute(f"UPDATE {table} SET name_key = ? WHERE account_id = ? AND kind = 'user' AND name_key = ?",
                             (new_name.lower(), ctx.account_id, user.key))

        await self.write(update)

    async def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def delete(conn: Connection) -> None:
            user = self.entity(conn, ctx, "user", params["UserName"])
            self.refuse_if(bool(access_keys.of_user(conn, user)), "Cannot delete entity, must delete access keys first.")
            self.refuse_if(bool(entities.attached_policy_arns(conn, user)),
                           "Cannot delete entity, must detach all policies first.")
            self.refuse_if(bool(entities.inline_policy_names(conn, user)),
                           "Cannot delete entity, must delete policies first.")
            self.refuse_if(bool(entities.containers_of(conn, user, "group")),
                           "Cannot delete entity, must remove users from group first.")
            entities.delete(conn, user)

        await self.write(delete)

    async def tag_user(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: entities.tag(conn, self.entity(conn, ctx, "user", params["UserName"]),
                                                   params["Tags"]))

    async def untag_user(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: entities.untag(conn, self.entity(conn, ctx, "user", params["UserName"]),
                                                     params["TagKeys"]))

    async def list_user_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = await self.read(lambda conn: self.entity(conn, ctx, "user", params["UserName"]))
        return page(user.tags, params, lambda t: t["Key"], "Tags")

    async def put_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.put_inline(ctx, "user", params["UserName"], params["PolicyName"], params["PolicyDocument"])

    async def get_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = await self.get_inline(ctx, "user", params["UserName"], params["PolicyName"])
        return {"UserName": params["UserName"], "PolicyName": params["PolicyName"],
                "PolicyDocument": documents.wire(document)}

    async def delete_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.delete_inline(ctx, "user", params["UserName"], params["PolicyName"])

    async def list_user_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.list_inline(ctx, "user", params["UserName"], params)

    async def attach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.attach_policy(ctx, "user", params["UserName"], params["PolicyArn"])

    async def detach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.detach_policy(ctx, "user", params["UserName"], params["PolicyArn"])

    async def list_attached_user_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.list_attached(ctx, "user", params["UserName"], params)

    async def put_user_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.boundary(ctx, "user", params["UserName"], params["PermissionsBoundary"])

    async def delete_user_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.boundary(ctx, "user", params["UserName"], None)

    # --- access keys ----------------------------------------------------------------------------
    async def _key_owner(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        name = params.get("UserName") or await self.caller_user_name(ctx)
        if name is None:
            raise AwsError("ValidationError", "Must specify userName when calling with non-User credentials", 400)
        return name

    async def create_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = await self._key_owner(ctx, params)
        key = await self.write(lambda conn: access_keys.create(conn, self.entity(conn, ctx, "user", name), self.now()))
        return {"AccessKey": {"UserName": name, "AccessKeyId": key.access_key_id, "Status": key.status,
                              "SecretAccessKey": key.secret_access_key, "CreateDate": key.created_at}}

    async def list_access_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = await self._key_owner(ctx, params)
        keys = await self.read(lambda conn: access_keys.of_user(conn, self.entity(conn, ctx, "user", name)))
        shapes: list[dict[str, Any]] = [
            {"UserName": name, "AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": k.created_at}
            for k in keys]
        return page(shapes, params, lambda k: k["AccessKeyId"], "AccessKeyMetadata")

    async def update_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name = await self._key_owner(ctx, params)
        await self.write(lambda conn: access_keys.set_status(
            conn, self.entity(conn, ctx, "user", name), params["AccessKeyId"], params["Status"]))

    async def delete_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name = await self._key_owner(ctx, params)
        await self.write(lambda conn: access_keys.delete(conn, self.entity(conn, ctx, "user", name),
                                                         params["AccessKeyId"]))

    async def get_access_key_last_used(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = await self.read(lambda conn: access_keys.find(conn, params["AccessKeyId"]))
        if key is None or key.account_id != ctx.account_id:
            raise AwsError("AccessDenied", "The specified access key does not belong to this account.", 403)
        user = await self.read(lambda conn: entities.find(conn, ctx.account_id, "user", key.user_key))
        # Eventyard does not record key use: AWS answers N/A for a key that was never used.
        return {"UserName": user.name if user else key.user_key,
                "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}

    # --- groups ---------------------------------------------------------------------------------
    async def create_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = await self.write(lambda conn: entities.create(conn, ctx.account_id, "group", params["GroupName"],
                                                              params.get("Path", "/"), self.now()))
        return {"Group": group_shape(group)}

    async def get_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def get(conn: Connection) -> tuple[Entity, list[Entity]]:
            group = self.entity(conn, ctx, "group", params["GroupName"])
            return group, entities.members(conn, group, "user")

        group, users = await self.read(get)
        out = page(users, params, lambda u: u.key, "Users")
        out["Users"] = [user_shape(u, full=False) for u in out["Users"]]
        out["Group"] = group_shape(group)
        return out

    async def list_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.read(lambda conn: entities.listing(conn, ctx.account_id, "group", params.get("PathPrefix", "/")))
        out = page(found, params, lambda g: g.key, "Groups")
        out["Groups"] = [group_shape(g) for g in out["Groups"]]
        return out

    async def list_groups_for_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.read(lambda conn: entities.containers_of(
            conn, self.entity(conn, ctx, "user", params["UserName"]), "group"))
        out = page(found, params, lambda g: g.key, "Groups")
        out["Groups"] = [group_shape(g) for g in out["Groups"]]
        return out

    async def delete_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def delete(conn: Connection) -> None:
            group = self.entity(conn, ctx, "group", params["GroupName"])
            self.refuse_if(bool(entities.members(conn, group, "user")),
                           "Cannot delete entity, must remove users from group first.")
            self.refuse_if(bool(entities.attached_policy_arns(conn, group)),
                           "Cannot delete entity, must detach all policies first.")
            self.refuse_if(bool(entities.inline_policy_names(conn, group)),
                           "Cannot delete entity, must delete policies first.")
            entities.delete(conn, group)

        await self.write(delete)

    async def add_user_to_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.write(lambda conn: entities.add_member(conn, self.entity(conn, ctx, "group", params["GroupName"]),
                                                          self.entity(conn, ctx, "user", params["UserName"])))

    async def remove_user_from_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def remove(conn: Connection) -> None:
            group = self.entity(conn, ctx, "group", params["GroupName"])
            if not entities.remove_member(conn, group, self.entity(conn, ctx, "user", params["UserName"])):
                raise AwsError("NoSuchEntity", f"The user with name {params['UserName']} cannot be found.", 404)

        await self.write(remove)

    async def put_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.put_inline(ctx, "group", params["GroupName"], params["PolicyName"], params["PolicyDocument"])

    async def get_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = await self.get_inline(ctx, "group", params["GroupName"], params["PolicyName"])
        return {"GroupName": params["GroupName"], "PolicyName": params["PolicyName"],
                "PolicyDocument": documents.wire(document)}

    async def delete_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.delete_inline(ctx, "group", params["GroupName"], params["PolicyName"])

    async def list_group_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.list_inline(ctx, "group", params["GroupName"], params)

    async def attach_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.attach_policy(ctx, "group", params["GroupName"], params["PolicyArn"])

    async def detach_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.detach_policy(ctx, "group", params["GroupName"], params["PolicyArn"])

    async def list_attached_group_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.list_attached(ctx, "group", params["GroupName"], params)

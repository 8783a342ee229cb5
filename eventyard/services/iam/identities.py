"""IAM's users, access keys and roles as STS reads them (the IDENTITIES port, runtime/ports.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.runtime.ports import IDENTITIES, Principal, RoleIdentity
from eventyard.services.iam import access_keys, documents, entities, names
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


class Identities:
    def key_owner(self, conn: Connection, access_key_id: str) -> Principal | None:
        key = access_keys.find(conn, access_key_id)
        user = entities.find(conn, key.account_id, "user", key.user_key) if key is not None else None
        return None if user is None else Principal(user.account_id, user.arn, user.entity_id)

    def key_account(self, conn: Connection, access_key_id: str) -> str | None:
        key = access_keys.find(conn, access_key_id)
        return None if key is None else key.account_id

    def role(self, conn: Connection, role_arn: str) -> RoleIdentity | None:
        parsed = names.parse_role_arn(role_arn)
        role = entities.find(conn, parsed[0], "role", parsed[1]) if parsed is not None else None
        if role is None or role.arn != role_arn:
            return None
        return RoleIdentity(role.account_id, role.name, role.arn, role.entity_id, role.trust_policy or "",
                            role.max_session_duration)

    def trusts(self, role: RoleIdentity, principal_arn: str, account_id: str) -> bool:
        return documents.trusts_principal(role.trust_policy, principal_arn, account_id)

    def trusts_service(self, role: RoleIdentity, service_principal: str, region: str) -> bool:
        return documents.trusts_service(role.trust_policy, service_principal, region)


def provide(platform: Platform) -> None:
    platform.ports.provide(IDENTITIES, Identities())

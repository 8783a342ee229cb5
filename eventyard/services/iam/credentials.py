"""IAM users' access keys as a source of the server's credential store: with `--auth sigv4`, a key
made by CreateAccessKey signs requests as its user, in its account, while it is Active."""

from __future__ import annotations

from typing import Any

from eventyard.runtime.credentials import Credential
from eventyard.services.iam import access_keys, entities
from eventyard.storage import Connection


class AccessKeyCredentials:
    def __init__(self, db: Any) -> None:
        self.db = db

    async def lookup(self, access_key_id: str) -> Credential | None:
        if not access_key_id.startswith("AKIA"):
            return None
        return await self.db.read(lambda conn: _credential(conn, access_key_id))  # type: ignore[no-any-return]


def _credential(conn: Connection, access_key_id: str) -> Credential | None:
    key = access_keys.find(conn, access_key_id)
    if key is None or key.status != "Active":
        return None
    user = entities.find(conn, key.account_id, "user", key.user_key)
    if user is None:
        return None
    return Credential(key.access_key_id, key.secret_access_key, key.account_id, principal_arn=user.arn)

"""IAM over its query protocol: roles, managed and inline policies, users, groups, access keys and
instance profiles, stored per account. Permissions are stored and shown, not evaluated: requests
are authenticated (with `--auth sigv4`), not authorized against policies."""

from __future__ import annotations

from typing import Any

from eventyard.services.iam.credentials import AccessKeyCredentials
from eventyard.services.iam.policy_ops import PolicyOperations
from eventyard.services.iam.role_ops import RoleOperations
from eventyard.services.iam.user_ops import UserOperations


class IamProvider(RoleOperations, PolicyOperations, UserOperations):
    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.credentials = AccessKeyCredentials(platform.db)

    async def start(self) -> None:
        self.platform.credentials.register(self.credentials)

    async def stop(self) -> None:
        self.platform.credentials.unregister(self.credentials)

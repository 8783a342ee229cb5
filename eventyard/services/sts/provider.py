"""AWS STS over its query protocol: who is calling, and temporary credentials for a role or a session.

Users, keys and roles are IAM's, read through its IDENTITIES port (runtime/ports.py). AssumeRole checks that
the role exists, as AWS does (a missing role is AccessDenied); with `--auth sigv4` it also checks
that the role's trust policy names the caller. The credentials it returns sign requests like any
other key (registered in the server's credential store) until `Expiration` on the server's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ports import IDENTITIES, Identities, RoleIdentity
from eventyard.services.base import Provider, RequestContext
from eventyard.services.sts import sessions
from eventyard.services.sts.sessions import Session, SessionCredentials
from eventyard.storage import Connection

ROOT_SESSION_LIMIT = 3600  # GetSessionToken for the root user lasts at most an hour
SWEEP_INTERVAL = 3600.0


@dataclass(frozen=True)
class Caller:
    account_id: str
    arn: str
    user_id: str
    is_session: bool = False
    is_root: bool = False
    is_service: bool = False  # an AWS service acting in-process (Lambda for a function's environment)


def identify(conn: Connection, ctx: RequestContext, iam: Identities) -> Caller:
    """Who signed the request: an STS session, an IAM user's access key, or the account's root; or the
    AWS service an in-process call names as its caller."""
    if ctx.caller is not None and ctx.caller.service:
        return Caller(ctx.caller.account_id, ctx.caller.principal, ctx.caller.principal, is_service=True)
    key = ctx.access_key or ""
    session = sessions.find(conn, key) if key.startswith("ASIA") else None
    if session is not None:
        return Caller(session.account_id, session.principal_arn, session.user_id, is_session=True)
    user = iam.key_owner(conn, key) if key.startswith("AKIA") else None
    if user is not None:
        return Caller(user.account_id, user.arn, user.user_id)
    return Caller(ctx.account_id, f"arn:aws:iam::{ctx.account_id}:root", ctx.account_id, is_root=True)


def _trusted(iam: Identities, role: RoleIdentity, caller: Caller, region: str) -> bool:
    if caller.is_service:
        return iam.trusts_service(role, caller.arn, region)
    return iam.trusts(role, caller.arn, caller.account_id)


def _denied(caller: Caller, role_arn: str) -> AwsError:
    return AwsError("AccessDenied", f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
                                    f"{role_arn}", 403)


class StsProvider(Provider):
    unsupported_error_code = "InvalidAction"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.credentials = SessionCredentials(platform.db, platform.clock)

    @property
    def iam(self) -> Identities:
        identities: Identities = self.platform.ports.get(IDENTITIES)
        return identities

    async def start(self) -> None:
        self.platform.credentials.register(self.credentials)
        self.platform.supervisor.every("sts:expired-sessions", SWEEP_INTERVAL, self._sweep)

    async def stop(self) -> None:
        self.platform.credentials.unregister(self.credentials)

    async def _sweep(self) -> None:
        now = self.platform.clock.now()
        await self.platform.db.write(lambda conn: sessions.sweep(conn, now))

    async def get_caller_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.iam
        caller = await self.platform.db.read(lambda conn: identify(conn, ctx, iam))
        return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}

    async def get_access_key_info(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = params["AccessKeyId"]
        iam = self.iam

        def account(conn: Connection) -> str:
            session = sessions.find(conn, key)
            if session is not None:
                return session.account_id
            return iam.key_account(conn, key) or ctx.account_id

        return {"Account": await self.platform.db.read(account)}

    async def assume_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role_arn, session_name = params["RoleArn"], params["RoleSessionName"]
        duration = params.get("DurationSeconds", 3600)
        enforce_trust = bool(getattr(self.platform.settings, "auth_enabled", False))
        now = self.platform.clock.now()
        iam = self.iam

        def issue(conn: Connection) -> tuple[Session, RoleIdentity]:
            caller = identify(conn, ctx, iam)
            role = iam.role(conn, role_arn)
            if role is None or (enforce_trust and not _trusted(iam, role, caller, ctx.region)):
                raise _denied(caller, role_arn)
            if duration > (role.max_session_duration or 3600):
                raise AwsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set "
                                                  "for this role.", 400)
            arn = f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}"
            return sessions.issue(conn, role.account_id, arn, f"{role.role_id}:{session_name}", now, duration), role

        session, role = await self.platform.db.write(issue)
        out: dict[str, Any] = {"Credentials": session.credentials_shape(),
                               "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.principal_arn}}
        if "SourceIdentity" in params:
            out["SourceIdentity"] = params["SourceIdentity"]
        if params.get("Policy") or params.get("PolicyArns") or params.get("Tags"):
            packed = len(params.get("Policy") or "") + 100 * len(params.get("PolicyArns") or [])
            out["PackedPolicySize"] = min(100, packed * 100 // 2048 + len(params.get("Tags") or []))
        return out

    async def get_session_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        duration = params.get("DurationSeconds", 43200)
        now = self.platform.clock.now()
        iam = self.iam

        def issue(conn: Connection) -> Session:
            caller = identify(conn, ctx, iam)
            if caller.is_session:
                raise AwsError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
            lasts = min(duration, ROOT_SESSION_LIMIT) if caller.is_root else duration
            return sessions.issue(conn, caller.account_id, caller.arn, caller.user_id, now, lasts)

        return {"Credentials": (await self.platform.db.write(issue)).credentials_shape()}


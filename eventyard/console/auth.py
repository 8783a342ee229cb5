"""Who is using the console, when authentication is on.

With `EVENTYARD_AUTH=sigv4` every API request must be signed with a configured access key; the
console then asks for the same credentials (access key id and secret access key) on a login form,
checks them against the server's credential store (`platform.credentials`, the one SigV4
verification uses), and keeps a session cookie. The console then acts in that key's account, so
it shows what that key's API calls would. The cookie is an HMAC of the key id and an expiry under a
secret made at start-up: restarting the server ends every session. It is `HttpOnly`,
`SameSite=Strict` and scoped to the console's path; state-changing console actions are POSTs,
which the door refuses cross-site anyway.

With authentication off (the default) there is no login: the console acts in the server's account,
as any unsigned-but-shaped SDK request would.

The hook: `ConsoleAuth.identify(request)` answers the account the request acts in, or None when a
login is required. A credential source is anything with `async lookup(access_key_id)` returning an
object with `secret_access_key` and `account_id` (see `runtime/credentials.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from eventyard.console.web import MOUNT, ConsoleRequest

COOKIE = "eventyard_console"
SESSION_SECONDS = 12 * 3600


class CredentialLookup(Protocol):
    async def lookup(self, access_key_id: str) -> Any: ...


@dataclass(frozen=True)
class Identity:
    account_id: str
    access_key_id: str | None  # None when authentication is off


def auth_mode(settings: Any) -> str:
    """The server's authentication setting ("sigv4" or "" for off): the setting, else the environment."""
    configured = getattr(settings, "auth", None)
    if configured is None:
        configured = os.environ.get("EVENTYARD_AUTH", "")
    return str(configured or "").strip().lower()


class ConsoleAuth:
    def __init__(self, mode: str, default_account: str, credentials: CredentialLookup | None) -> None:
        self.required = mode not in {"", "off", "none"}
        self.default_account = default_account
        self.credentials = credentials
        self._key = secrets.token_bytes(32)

    async def identify(self, request: ConsoleRequest) -> Identity | None:
        if not self.required:
            return Identity(self.default_account, None)
        cookie = request.cookie(COOKIE)
        session = self._read_session(cookie) if cookie else None
        if session is None:
            return None
        access_key_id, _ = session
        credential = await self._lookup(access_key_id)
        if credential is None:  # the key was removed (or expired) since the login
            return None
        return Identity(str(credential.account_id), access_key_id)

    async def log_in(self, access_key_id: str, secret_access_key: str) -> str | None:
        """A session cookie value when the credentials are right, else None."""
        credential = await self._lookup(access_key_id.strip())
        if credential is None or not hmac.compare_digest(
                str(credential.secret_access_key).encode(), secret_access_key.encode()):
            return None
        expires = int(time.time()) + SESSION_SECONDS
        return f"{access_key_id.strip()}.{expires}.{self._sign(access_key_id.strip(), expires)}"

    def cookie_header(self, value: str, max_age: int = SESSION_SECONDS) -> str:
        return f"{COOKIE}={value}; Path={MOUNT}/; HttpOnly; SameSite=Strict; Max-Age={max_age}"

    async def _lookup(self, access_key_id: str) -> Any:
        if self.credentials is None or not access_key_id:
            return None
        return await self.credentials.lookup(access_key_id)

    def _sign(self, access_key_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{access_key_id}.{expires}".encode(), hashlib.sha256).hexdigest()

    def _read_session(self, value: str) -> tuple[str, int] | None:
        parts = value.split(".")
        if len(parts) < 3:
            return None
        signature, expires_text = parts[-1], parts[-2]
        key_id = ".".join(parts[:-2])
        try:
            expires = int(expires_text)
        except ValueError:
            return None
        if expires < time.time() or not hmac.compare_digest(signature, self._sign(key_id, expires)):
            return None
        return key_id, expires

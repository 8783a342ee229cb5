"""Temporary credentials (AssumeRole, GetSessionToken): issued, looked up, and swept once expired.

Expiry is on the server's injected clock. The credential store's users (the authenticator) compare
with the host's wall clock, so a looked-up credential's expiry is shifted by the clock's offset:
moving the test clock past `Expiration` makes the credentials expire for requests too.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from eventyard.runtime.credentials import Credential
from eventyard.services.iam.names import new_access_key_id, new_secret_access_key
from eventyard.storage import Connection, Row


@dataclass
class Session:
    access_key_id: str
    secret_access_key: str
    session_token: str
    account_id: str
    principal_arn: str
    user_id: str
    expires_at: float

    @classmethod
    def from_row(cls, row: Row) -> Session:
        return cls(row["access_key_id"], row["secret_access_key"], row["session_token"], row["account_id"],
                   row["principal_arn"], row["user_id"], row["expires_at"])

    def credentials_shape(self) -> dict[str, Any]:
        return {"AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key,
                "SessionToken": self.session_token, "Expiration": self.expires_at}


def issue(conn: Connection, account_id: str, principal_arn: str, user_id: str, now: float, duration: int) -> Session:
    # Session tokens are long opaque strings on AWS too; SDKs pass them back in X-Amz-Security-Token.
    token = base64.b64encode(b"eventyard-session:" + secrets.token_bytes(96)).decode()
    session = Session(new_access_key_id("ASIA"), new_secret_access_key(), token, account_id, principal_arn, user_id,
                      now + duration)
    conn.execute("INSERT INTO sts_sessions (access_key_id, secret_access_key, session_token, account_id, "
                 "principal_arn, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (session.access_key_id, session.secret_access_key, token, account_id, principal_arn, user_id,
                  session.expires_at, now))
    return session


def find(conn: Connection, access_key_id: str) -> Session | None:
    row = conn.execute("SELECT * FROM sts_sessions WHERE access_key_id = ?", (access_key_id,)).fetchone()
    return None if row is None else Session.from_row(row)


def sweep(conn: Connection, now: float) -> int:
    """Forget credentials that expired over a day ago (a late request still gets ExpiredToken)."""
    return conn.execute("DELETE FROM sts_sessions WHERE expires_at < ?", (now - 86400,)).rowcount


class SessionCredentials:
    """STS's sessions as a source of the server's credential store."""

    def __init__(self, db: Any, clock: Any) -> None:
        self.db = db
        self.clock = clock

    async def lookup(self, access_key_id: str) -> Credential | None:
        if not access_key_id.startswith("ASIA"):
            return None
        session = await self.db.read(lambda conn: find(conn, access_key_id))
        if session is None:
            return None
        wall_expiry = session.expires_at - float(getattr(self.clock, "offset", 0.0))
        return Credential(session.access_key_id, session.secret_access_key, session.account_id,
                          session_token=session.session_token, expires_at=wall_expiry,
                          principal_arn=session.principal_arn)

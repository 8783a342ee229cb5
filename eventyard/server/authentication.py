"""Authentication at the door (`--auth sigv4`): who signed the request, and is the signature theirs.

With authentication off (the default) a request only needs a signature's *shape* (server/door.py);
its account is the configured one and an `aws-chunked` body is unwrapped without checking its chunk
signatures. With it on, the access key must be known to the credential store, its session token (if
it has one) must be the request's, the signature must match, and the date must be current. The
request then acts in the key's account.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from eventyard.protocol.base import HttpRequest
from eventyard.protocol.sigv4 import (
    STREAMING_UNSIGNED_TRAILER,
    SignatureRefused,
    check_time,
    chunk_signer,
    claim_of,
    decode_aws_chunked,
    is_aws_chunked,
    verify,
)
from eventyard.runtime.credentials import Credential, CredentialStore


@dataclass(frozen=True)
class Identity:
    access_key: str
    account_id: str
    principal: str
    scope_service: str  # the service name the request was signed for


class Authenticator:
    def __init__(self, credentials: CredentialStore, wall_clock: Callable[[], float] = time.time) -> None:
        self.credentials = credentials
        # Signatures are dated by the client's wall clock, so they are checked against the host's,
        # never against the server's movable test clock.
        self.wall_clock = wall_clock

    async def authenticate(self, request: HttpRequest) -> Identity:
        """Verify the request's signature (raising SignatureRefused) and unwrap an aws-chunked body."""
        claim = claim_of(request)
        if claim is None:
            raise SignatureRefused("missing", "")
        credential = await self.credentials.lookup(claim.access_key)
        now = self.wall_clock()
        _check_credential(credential, claim.session_token, now)
        assert credential is not None
        check_time(claim, now)
        verify(request, claim, credential.secret_access_key)
        if is_aws_chunked(request):
            signed = request.headers.get("x-amz-content-sha256") != STREAMING_UNSIGNED_TRAILER
            request.body = decode_aws_chunked(request.body, chunk_signer(claim, credential.secret_access_key), signed)
        return Identity(credential.access_key_id, credential.account_id, credential.principal, claim.service)


def _check_credential(credential: Credential | None, session_token: str | None, now: float) -> None:
    if credential is None:
        raise SignatureRefused("unknown_key", "")
    if (credential.session_token or None) != (session_token or None):
        raise SignatureRefused("invalid_token", "")
    if credential.expires_at is not None and now >= credential.expires_at:
        raise SignatureRefused("expired_token", "")


def unwrap_unverified(request: HttpRequest) -> None:
    """Without authentication an aws-chunked body is still unwrapped, so services see the payload."""
    if is_aws_chunked(request):
        request.body = decode_aws_chunked(request.body, None, signed_chunks=False)

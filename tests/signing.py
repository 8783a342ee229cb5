"""Raw HTTP requests signed with SigV4 as an SDK signs them, for tests that hand-write the wire format."""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret")


def signed_headers(method: str, url: str, body: bytes | None, headers: dict[str, str], service: str,
                   region: str = "us-east-1", credentials: Credentials = CREDENTIALS) -> dict[str, str]:
    """`headers` plus the SigV4 ones (Authorization, X-Amz-Date, ...) for this exact request."""
    request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
    SigV4Auth(credentials, service, region).add_auth(request)
    return dict(request.headers.items())

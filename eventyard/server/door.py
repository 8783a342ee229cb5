"""Checks every request passes before any service sees it.

A developer's browser can reach the server too: any web page may send it "simple" cross-site
requests (form posts, `text/plain` fetches) and, through DNS rebinding, read the answers. No AWS SDK
sends such requests, so the door refuses them:

- a Host that is not a loopback name or a configured host (DNS rebinding sends the attacker's name);
- an AWS API request with neither a SigV4 `Authorization` header nor a presigned query (a browser
  cannot add that header cross-site without a CORS preflight, which is never granted);
- a state-changing request to Eventyard's own endpoints from another origin.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from eventyard.protocol.base import HttpRequest

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "host.docker.internal")

_SIGV4_HEADER = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=[^/\s,]+/\d{8}/[^/\s,]+/[^/\s,]+/aws4_request\s*,\s*"
    r"SignedHeaders=[a-z0-9;._:-]+\s*,\s*Signature=[0-9a-f]{64}\s*$"  # HTTP/2 SDKs sign ":authority"
)
MAX_REMEMBERED_HOSTS = 256
_PRESIGNED = ("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Credential=", "X-Amz-Signature=")


class HostPolicy:
    """Which Host header values the server answers to."""

    def __init__(self, extra_hosts: Iterable[str] = ()) -> None:
        hosts = {h.strip().lower() for h in extra_hosts if h.strip()}
        self.any_host = "*" in hosts
        self.names = set(LOOPBACK_NAMES) | {h for h in hosts if h != "*"}
        # A client sends the same Host on every request: the answer for each header value is kept
        # (a bounded number of them), so parsing it is not paid per request.
        self._answers: dict[str, bool] = {}

    def allows(self, host_header: str | None) -> bool:
        if self.any_host:
            return True
        if not host_header:
            return False  # HTTP/1.1 requires Host; every SDK sends one
        answer = self._answers.get(host_header)
        if answer is None:
            answer = self._allows(host_header)
            if len(self._answers) < MAX_REMEMBERED_HOSTS:
                self._answers[host_header] = answer
        return answer

    def _allows(self, host_header: str) -> bool:
        host = _hostname(host_header)
        if host is None:
            return False
        if self._allowed_name(host):
            return True
        # A model's hostPrefix (`sync-`, `streaming-`, `<account>.`) in front of an allowed name.
        for separator in ("-", "."):
            _, found, rest = host.partition(separator)
            while found:
                if self._allowed_name(rest):
                    return True
                _, found, rest = rest.partition(separator)
        return False

    def _allowed_name(self, host: str) -> bool:
        if host in self.names or host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def _hostname(host_header: str) -> str | None:
    value = host_header.strip()
    # AWS answers a Host header that carries a whole URL (`https://<name>:<port>`, as clients that copy
    # their endpoint into Host send; recorded by LocalStack's Kinesis CBOR tests): judge its host name.
    if value.lower().startswith(("http://", "https://")):
        value = value.split("://", 1)[1].split("/", 1)[0]
    try:
        host = urlsplit(f"//{value}").hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def is_signed(request: HttpRequest) -> bool:
    """Whether the request carries a SigV4 signature in the shape SDKs send (header or presigned query)."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        return _SIGV4_HEADER.match(authorization) is not None
    query = request.query_string
    return all(part in query for part in _PRESIGNED) or _presigned_in_body(request)


def _presigned_in_body(request: HttpRequest) -> bool:
    """A query-protocol POST may carry the presigned parameters in its form body."""
    if request.method != "POST" or not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        return False
    text = request.body[:8192].decode("latin-1")
    return all(part in text for part in _PRESIGNED)


def is_loopback_client(scope: dict[str, Any]) -> bool:
    """Whether the connection comes from this machine (ASGI's `client` address)."""
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(str(client[0])).is_loopback
    except ValueError:
        return False


def is_cross_site(request: HttpRequest, hosts: HostPolicy) -> bool:
    """A browser request from another origin (fetch metadata or Origin say so)."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    return not hosts.allows(urlsplit(origin).netloc)

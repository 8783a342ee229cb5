"""The console's view of an HTTP request and the responses it sends (HTML, redirects, files)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from eventyard.config import DEFAULT_REGION
from eventyard.protocol.base import HttpRequest, HttpResponse

MOUNT = "/_eventyard/console"


@dataclass
class ConsoleRequest:
    """One request to a console page: its path below the mount, query, form and chosen region."""

    http: HttpRequest
    path: str  # below the mount, without a leading slash ("sqs/queues")
    query: dict[str, str]
    form: dict[str, str]
    route: dict[str, str] = field(default_factory=dict)  # values captured by the route's pattern
    account_id: str = ""  # the account the console acts in for this request (see auth.py)

    @classmethod
    def of(cls, request: HttpRequest) -> ConsoleRequest:
        path = request.path.removeprefix(MOUNT).lstrip("/")
        query = dict(parse_qsl(request.query_string, keep_blank_values=True))
        form: dict[str, str] = {}
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        return cls(request, path, query, form)

    @property
    def method(self) -> str:
        return self.http.method

    @property
    def region(self) -> str:
        return self.query.get("region") or self.form.get("region") or DEFAULT_REGION

    @property
    def is_fragment(self) -> bool:
        """htmx asks for a part of a page, not a whole one."""
        return self.http.headers.get("hx-request") == "true"

    def arg(self, name: str, default: str = "") -> str:
        return self.form.get(name) or self.query.get(name) or self.route.get(name) or default

    def int_arg(self, name: str, default: int, low: int = 1, high: int = 1_000_000) -> int:
        try:
            return max(low, min(high, int(self.arg(name, str(default)))))
        except ValueError:
            return default

    def cookie(self, name: str) -> str | None:
        cookies = SimpleCookie()
        try:
            cookies.load(self.http.headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header means no cookie, not an error page
            return None
        morsel = cookies.get(name)
        return morsel.value if morsel else None


def console_url(path: str = "", **query: Any) -> str:
    """A console URL: `console_url("sqs/queue", region="us-east-1", name="q")`."""
    wanted = {k: v for k, v in query.items() if v not in (None, "")}
    suffix = f"?{urlencode(wanted)}" if wanted else ""
    return f"{MOUNT}/{path.lstrip('/')}{suffix}"


def html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, body.encode(), {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        # The console's pages load only their own scripts and are never framed by another site.
        "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                   "img-src 'self' data:; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        **(headers or {}),
    })


def redirect(location: str, status: int = 303, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, b"", {"location": location, "cache-control": "no-store", **(headers or {})})


def json_response(document: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, json.dumps(document).encode(), {"content-type": "application/json",
                                                                 "cache-control": "no-store"})


def is_console_path(path: str) -> bool:
    return path == MOUNT or path.startswith(MOUNT + "/")


def wants_console(request: HttpRequest) -> bool:
    """A person's browser opening the server's root: a plain GET of `/` asking for HTML, with no
    AWS signature, query (`?Action=...`) or target header, which no SDK request looks like."""
    headers = request.headers
    return (request.method in {"GET", "HEAD"} and request.path == "/" and not request.query_string
            and "authorization" not in headers and "x-amz-target" not in headers
            and not any(name.startswith("x-amz-") for name in headers)
            and "text/html" in headers.get("accept", ""))

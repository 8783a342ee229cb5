"""The console: a client of the providers, mounted by the server under /_eventyard/console/.

Every read and action goes through `Platform.call` (the same provider code an SDK request runs)
or a named provider method for what the API has no operation for (peeking at SQS messages without
receiving them), so a page shows exactly what the API would.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import TYPE_CHECKING, Any

from eventyard import __version__
from eventyard.console import regions, routing
from eventyard.console.auth import ConsoleAuth, auth_mode
from eventyard.console.pages import PAGE_ROUTES
from eventyard.console.templating import build_environment
from eventyard.console.web import MOUNT, ConsoleRequest, console_url, html, redirect
from eventyard.protocol.base import HttpRequest, HttpResponse
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

log = logging.getLogger(__name__)

STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".png": "image/png", ".svg": "image/svg+xml"}
NAVIGATION = [("", "Overview"), ("sqs", "SQS"), ("sns", "SNS"), ("events", "EventBridge"),
              ("lambda", "Lambda"), ("sfn", "Step Functions"), ("kinesis", "Kinesis"),
              ("cloudwatch", "CloudWatch"), ("faults", "Faults")]


class Console:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.templates = build_environment()
        self.auth = ConsoleAuth(auth_mode(platform.settings), platform.settings.account_id,
                                getattr(platform, "credentials", None))
        self.routes = PAGE_ROUTES

    # -- what pages use --------------------------------------------------------------------
    def has(self, service: str) -> bool:
        return service in self.platform.services

    def provider(self, service: str) -> Any:
        """A service's provider, for its named console methods (None when the service is absent)."""
        found = self.platform.services.get(service)
        return found.provider if found is not None else None

    async def call(self, request: ConsoleRequest, service: str, operation: str, params: dict[str, Any] | None = None,
                   region: str | None = None) -> dict[str, Any]:
        """One API call, as the request's account, in its region (or the one given)."""
        return await self.platform.call(service, operation, params or {}, region=region or request.region,
                                        account_id=request.account_id)

    async def collect(self, request: ConsoleRequest, service: str, operation: str, items_key: str,
                      params: dict[str, Any] | None = None, *, token: str = "NextToken",
                      region: str | None = None, limit: int = 100_000) -> list[Any]:
        """Every item of a paginated list operation (bounded by `limit`)."""
        items: list[Any] = []
        params = dict(params or {})
        while len(items) < limit:
            page = await self.call(request, service, operation, params, region)
            items.extend(page.get(items_key, []))
            next_token = page.get(token)
            if not next_token:
                break
            params[token] = next_token
        return items

    def render(self, request: ConsoleRequest, template: str, status: int = 200, **context: Any) -> HttpResponse:
        page = self.templates.get_template(template).render(
            request=request, region=request.region, regions=regions.known_regions(request.region),
            account_id=request.account_id, navigation=NAVIGATION, section=request.path.split("/")[0],
            version=__version__, auth_required=self.auth.required, services=set(self.platform.services),
            notice=request.query.get("notice", ""), problem=request.query.get("error", ""),
            faults_active=bool(self.platform.faults.rules), **context)
        return html(page, status)

    def now(self) -> float:
        return float(self.platform.clock.now())

    # -- serving ---------------------------------------------------------------------------
    async def handle(self, http: HttpRequest) -> HttpResponse:
        request = ConsoleRequest.of(http)
        if request.path.startswith("static/"):
            return _static(request.path.removeprefix("static/"))
        if request.path in {"login", "logout"}:
            return await self._login(request)
        identity = await self.auth.identify(request)
        if identity is None:
            if request.method == "GET" and not request.is_fragment and request.path != "live":
                return redirect(console_url("login", next=http.path + (f"?{http.query_string}" if http.query_string
                                                                       else "")))
            return html("<p>Log in to use the console.</p>", 401)
        request.account_id = identity.account_id
        return await self.dispatch(request)

    async def dispatch(self, request: ConsoleRequest) -> HttpResponse:
        found = routing.find(self.routes, request.method, request.path)
        if found is None:
            return self.render(request, "error.html", 404, title="Not found",
                               code="NotFound", message=f"The console has no page {request.path!r}.")
        if found is False:
            return html("<p>Method not allowed.</p>", 405, {"allow": "GET, POST"})
        assert not isinstance(found, bool)
        handler, captures = found
        request.route = captures
        try:
            return await handler(self, request)
        except AwsError as error:
            return self.render(request, "error.html", 404 if error.status == 404 else 400,
                               title=error.code, code=error.code, message=error.message)
        except Exception:  # a console bug must not look like a server crash
            log.exception("console page %s failed", request.path)
            return self.render(request, "error.html", 500, title="Console error", code="InternalError",
                               message="This page failed; the server log has the details.")

    async def _login(self, request: ConsoleRequest) -> HttpResponse:
        target = request.arg("next") or console_url()
        if not target.startswith(MOUNT + "/"):
            target = console_url()  # never redirect off the console (open redirect)
        if request.path == "logout":
            if request.method != "POST":
                return html("<p>Method not allowed.</p>", 405, {"allow": "POST"})
            return redirect(console_url("login"), headers={"set-cookie": self.auth.cookie_header("", 0)})
        if not self.auth.required:
            return redirect(target)
        if request.method == "POST":
            cookie = await self.auth.log_in(request.form.get("access_key_id", ""),
                                            request.form.get("secret_access_key", ""))
            if cookie is not None:
                return redirect(target, headers={"set-cookie": self.auth.cookie_header(cookie)})
            return self._login_page(request, target, "The access key id or secret access key is wrong.", 401)
        return self._login_page(request, target, "", 200)

    def _login_page(self, request: ConsoleRequest, target: str, message: str, status: int) -> HttpResponse:
        request.account_id = ""
        return self.render(request, "login.html", status, title="Log in", target=target, message=message,
                           has_credentials=self.auth.credentials is not None)


def _static(name: str) -> HttpResponse:
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES:
        return HttpResponse(404, b"not found", {"content-type": "text/plain"})
    path = resources.files("eventyard.console").joinpath("static", name)
    if not path.is_file():
        return HttpResponse(404, b"not found", {"content-type": "text/plain"})
    return HttpResponse(200, path.read_bytes(), {"content-type": STATIC_TYPES[suffix],
                                                  "cache-control": "public, max-age=3600",
                                                  "x-content-type-options": "nosniff"})


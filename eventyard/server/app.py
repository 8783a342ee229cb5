"""The ASGI application: read a request, route it to a service, answer in that service's protocol."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from eventyard.config import Settings
from eventyard.console import MOUNT, Console, is_console_path, wants_console
from eventyard.protocol.auth_errors import authentication_error, missing_authentication
from eventyard.protocol.base import HttpRequest, HttpResponse
from eventyard.protocol.errors import AwsError, InternalFailure, ServiceUnavailable
from eventyard.protocol.sigv4 import SignatureRefused
from eventyard.runtime.access import Caller
from eventyard.runtime.ids import new_uuid
from eventyard.server import faults, interpreter
from eventyard.server.authentication import Authenticator, unwrap_unverified
from eventyard.server.door import HostPolicy, is_cross_site, is_loopback_client, is_signed
from eventyard.server.limits import read_body, too_large
from eventyard.server.platform import Platform, ServiceFactory
from eventyard.server.routing import Router, Scope, credential_scope
from eventyard.services.base import RequestContext, Service
from eventyard.storage import StorageUnavailable

log = logging.getLogger(__name__)
TEST_STORAGE_CAP = "/_eventyard/test-only/storage-cap"
request_log = logging.getLogger("eventyard.requests")

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def default_services() -> list[ServiceFactory]:
    from eventyard.services.registry import service_factories

    return service_factories()


class EventyardApp:
    def __init__(self, settings: Settings, services: list[ServiceFactory] | None = None) -> None:
        self.settings = settings
        self.service_factories = services if services is not None else default_services()
        self.platform: Platform | None = None
        self.router: Router | None = None
        self.console: Console | None = None
        self.authenticator: Authenticator | None = None
        self.hosts = HostPolicy([*settings.allowed_hosts, *_configured_host(settings)])

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope.get("http_version") == "2" and "host" in headers:
            headers[":authority"] = headers["host"]  # HTTP/2 SDKs (JS v3) sign ":authority" instead of Host
        request = HttpRequest(
            method=scope["method"],
            path=scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body or b"",
            raw_path=(scope.get("raw_path") or b"").decode("latin-1"),
        )
        response = await self.handle(request, scope) if body is not None else self._too_large(request)
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        if response.header_list:
            raw_headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.header_list]
        if response.stream is None and "content-length" not in response.headers:
            raw_headers.append((b"content-length", str(len(response.body)).encode()))  # not chunked: as AWS answers
        await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
        if response.stream is None:
            await send({"type": "http.response.body", "body": response.body})
            return
        await send({"type": "http.response.body", "body": response.body, "more_body": True})
        if await _stream_until_disconnect(response.stream, send, receive):
            await send({"type": "http.response.body", "body": b""})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.platform = Platform(self.settings, self.service_factories)
                    await self.platform.start()
                    self.router = Router(self.platform.services)
                    self.console = Console(self.platform)
                    self.authenticator = Authenticator(self.platform.credentials)
                    interpreter.settle_after_start_up()
                except Exception as exc:  # start-up failures must stop the server, loudly
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.platform is not None:
                    await self.platform.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def handle(self, request: HttpRequest, scope: dict[str, Any]) -> HttpResponse:
        assert self.platform is not None and self.router is not None
        if not self.hosts.allows(request.headers.get("host")):
            return _json(403, {"message": f"Host {request.headers.get('host')!r} is not served here; "
                                          "add it to EVENTYARD_ALLOWED_HOSTS to allow it"})
        if self.router.host_handlers:
            owner = self.router.host_handler(request.headers.get("host"))
            if owner is not None:  # a function URL: the whole request is the service's
                return await owner.serve(request, scope, await self._signed(request))
        if request.path.startswith("/_eventyard/"):
            if request.method not in {"GET", "HEAD", "OPTIONS"} and is_cross_site(request, self.hosts):
                return _json(403, {"message": "cross-site requests to Eventyard's own endpoints are refused"})
            if is_console_path(request.path):  # the console asks for credentials itself (console/auth.py)
                return await self._console(request)
            refused = await self._admin_refusal(request)
            return refused or await self._admin(request, scope)
        if wants_console(request):  # a person opening the server in a browser
            return HttpResponse(302, b"", {"location": f"{MOUNT}/"})
        credential = credential_scope(request)
        service = self.router.route(request, credential)
        if service is None:
            return _json(404, {"error": "no Eventyard service matches this request"})
        if not self.settings.log_requests:
            return (await self._call_service(service, request, scope, credential))[0]
        started = time.perf_counter()
        response, operation = await self._call_service(service, request, scope, credential)
        request_log.info("%s %s %d %.1fms", service.name, operation or "-", response.status,
                         (time.perf_counter() - started) * 1000)
        return response

    async def _call_service(self, service: Service, request: HttpRequest, scope: dict[str, Any],
                            credential: Scope) -> tuple[HttpResponse, str | None]:
        """Parse, dispatch and serialize one API call; the operation's name comes back for the request log."""
        protocol = service.protocol_for(request)
        operation = None
        ctx = RequestContext(
            region=credential.region,
            account_id=self.settings.account_id,
            base_url=self.settings.public_url_override or _base_url(request, scope),
            headers=request.headers,
            access_key=credential.access_key,
        )
        try:
            signed = await self._check_signature(request, service, protocol, ctx)
            if not signed and not service.has_unsigned_operations:
                raise missing_authentication(protocol)
            parsed = protocol.parse(request)
            operation = parsed.operation
            ctx.operation = operation.name
            if not signed and not service.allows_unsigned(operation):
                raise missing_authentication(protocol)
            assert self.platform is not None
            injected = faults.api_fault(self.platform.faults, service.name, operation, parsed.params, ctx.region,
                                        ctx.account_id)
            if injected is not None:  # a throttle or error rule (/_eventyard/faults) answers instead
                raise injected
            result = await service.provider.dispatch(ctx, operation.name, parsed.params)
            return protocol.serialize(operation, result, ctx.request_id), ctx.operation
        except AwsError as error:
            return protocol.serialize_error(error, operation, ctx.request_id), ctx.operation
        except StorageUnavailable as error:  # disk full, locked by another process: retryable, as AWS's 503s are
            log.warning("%s.%s: storage unavailable: %s", service.name, getattr(operation, "name", "?"), error)
            return protocol.serialize_error(ServiceUnavailable(), operation, ctx.request_id), ctx.operation
        except Exception:  # a bug of ours: the client still gets an AWS-shaped 500, never a traceback
            log.exception("unhandled error in %s.%s", service.name, getattr(operation, "name", "?"))
            return protocol.serialize_error(InternalFailure(), operation, ctx.request_id), ctx.operation

    def _cap_storage_for_tests(self, request: HttpRequest) -> HttpResponse:
        """TEST-ONLY: `POST {"extra_pages": N}` lets the SQLite file grow by N more pages (a full disk);
        `{"extra_pages": null}` gives the space back. Off unless EVENTYARD_TEST_HOOKS=1."""
        assert self.platform is not None
        cap = getattr(self.platform.db, "cap_pages_for_tests", None)
        if not self.settings.test_hooks or cap is None or request.method != "POST":
            return _json(403, {"error": "test hooks are off (EVENTYARD_TEST_HOOKS=1, SQLite storage, POST)"})
        try:
            extra = json.loads(request.body or b"{}").get("extra_pages")
            return _json(200, {"max_page_count": cap(None if extra is None else int(extra))})
        except (ValueError, TypeError, AttributeError) as exc:
            return _json(400, {"error": str(exc)})

    def _too_large(self, request: HttpRequest) -> HttpResponse:
        """A body over the limit, answered in the dialect of the service it was meant for."""
        service = self.router.route(request, credential_scope(request)) if self.router else None
        if service is None:
            return _json(413, {"message": too_large().message})
        protocol = service.protocol_for(request)
        operation = getattr(protocol, "operation_name", lambda _: None)(request)  # routes that need no body
        return protocol.serialize_error(too_large(operation), None, new_uuid())

    async def _check_signature(self, request: HttpRequest, service: Service, protocol: Any,
                               ctx: RequestContext) -> bool:
        """Whether the request is signed. With authentication on, the signature is verified and the
        request acts in the key's account; a refused signature raises the protocol's AWS error."""
        assert self.authenticator is not None
        try:
            if not self.settings.auth_enabled:
                signed = is_signed(request)
                if signed:
                    unwrap_unverified(request)
                return signed
            try:
                identity = await self.authenticator.authenticate(request)
            except SignatureRefused as refusal:
                if refusal.reason == "missing":
                    return False
                raise
            if identity.scope_service != service.signing_name:
                raise SignatureRefused("mismatch", f"Credential should be scoped to correct service: "
                                                   f"'{service.signing_name}'. ")
        except SignatureRefused as refusal:
            raise authentication_error(refusal, protocol) from None
        ctx.account_id = identity.account_id
        ctx.access_key = identity.access_key
        ctx.caller = Caller(identity.account_id, identity.principal)
        return True

    async def _signed(self, request: HttpRequest) -> bool:
        """Whether a request to a service's own host carries a valid signature (its shape, with
        authentication off)."""
        if not self.settings.auth_enabled:
            return is_signed(request)
        assert self.authenticator is not None
        try:
            await self.authenticator.authenticate(request)
        except SignatureRefused:
            return False
        return True

    async def _admin_refusal(self, request: HttpRequest) -> HttpResponse | None:
        """With authentication on, Eventyard's own endpoints (all but health) need a valid signature too."""
        if not self.settings.auth_enabled or request.path == "/_eventyard/health":
            return None
        assert self.authenticator is not None
        try:
            await self.authenticator.authenticate(request)
        except SignatureRefused as refusal:
            error = authentication_error(refusal, None)
            return _json(error.status, {"__type": error.code, "message": error.message})
        return None

    async def _console(self, request: HttpRequest) -> HttpResponse:
        assert self.console is not None
        if request.path == MOUNT:
            return HttpResponse(308, b"", {"location": f"{MOUNT}/"})
        return await self.console.handle(request)

    async def _admin(self, request: HttpRequest, scope: dict[str, Any]) -> HttpResponse:
        assert self.platform is not None
        if request.path == "/_eventyard/health":
            health = self.platform.health()
            if not is_loopback_client(scope):  # where the data lives is the host's business
                health["storage"] = {"backend": health["storage"].get("backend")}
            return _json(200, health)
        if request.path == "/_eventyard/clock":
            if not self.settings.clock_control:
                return _json(403, {"error": "clock control is off (set EVENTYARD_CLOCK_CONTROL=1)"})
            if request.method == "POST":
                try:
                    advance = float(json.loads(request.body or b"{}").get("advance", 0))
                    await self.platform.shared_clock.advance(advance)
                except (ValueError, TypeError, AttributeError) as exc:
                    return _json(400, {"error": str(exc)})
            return _json(200, {"now": self.platform.clock.now(), "offset": self.platform.clock.offset})
        if request.path == TEST_STORAGE_CAP:
            return self._cap_storage_for_tests(request)
        if request.path == faults.PATH:
            return await faults.handle(self.platform.faults, request, self.platform.services)
        if request.path.startswith("/_eventyard/trace/") and request.method in {"GET", "HEAD"}:
            ident = request.path.removeprefix("/_eventyard/trace/")  # the server has decoded the path
            path = await self.platform.trace(ident) if ident else None
            return _json(200, path) if path else _json(404, {"error": f"no traced hop is known by {ident!r}"})
        # /_eventyard/<service>/...: a service's own endpoints (e.g. SNS's captured deliveries).
        service = self.platform.services.get(request.path.split("/")[2])
        service_admin = getattr(service.provider, "admin", None) if service else None
        if service_admin is not None:
            return await service_admin(request)
        return _json(404, {"error": f"no such endpoint {request.path}"})


async def _stream_until_disconnect(stream: Any, send: Send, receive: Receive) -> bool:
    """Send a streamed body chunk by chunk; stop (and close its producer) as soon as the client goes
    away, so a long-lived stream (SubscribeToShard) does not outlive its reader. False if it left."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    chunks = stream.__aiter__()
    try:
        while True:
            next_chunk = asyncio.ensure_future(chunks.__anext__())
            await asyncio.wait({next_chunk, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not next_chunk.done():
                next_chunk.cancel()
                await asyncio.gather(next_chunk, return_exceptions=True)
                return False
            try:
                chunk = next_chunk.result()
            except StopAsyncIteration:
                return True
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


def _configured_host(settings: Settings) -> list[str]:
    """The host the server was told to listen on, and the one in its public URL, are names clients use."""
    names = [] if settings.host in {"0.0.0.0", "::", ""} else [settings.host]
    public = urlsplit(settings.public_url_override).hostname if settings.public_url_override else None
    return names + ([public] if public else [])


def _base_url(request: HttpRequest, scope: dict[str, Any]) -> str:
    host = request.headers.get("host")
    if not host:
        server = scope.get("server") or ("localhost", 4566)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _json(status: int, document: Any) -> HttpResponse:
    return HttpResponse(status, json.dumps(document).encode(), {"content-type": "application/json"})

"""What a service plugs into the server: its model, wire protocols, provider and schema."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from botocore import xform_name
from botocore.model import OperationModel

from eventyard.protocol.base import HttpRequest, HttpResponse, WireProtocol
from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import Caller
from eventyard.runtime.ids import new_uuid
from eventyard.storage import Migration

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


@dataclass
class RequestContext:
    """Who asked, where, and how to answer: everything a provider may need from the request."""

    region: str
    account_id: str
    base_url: str  # scheme://host[:port] the client used, for URLs we hand back (queue URLs)
    request_id: str = field(default_factory=new_uuid)
    headers: dict[str, str] = field(default_factory=dict)
    operation: str = ""
    access_key: str | None = None
    # Who signed, when authentication is on (None otherwise, and for in-process calls): a request
    # on another account's resource needs that resource policy's grant (runtime/access.py).
    caller: Caller | None = None

    @property
    def trace_header(self) -> str | None:
        return self.headers.get("x-amzn-trace-id")


Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any] | None]]


class HostHandler(Protocol):
    """A service's own host names (Lambda's function URLs, `<url-id>.lambda-url.<region>.<host>`):
    requests to them are the service's to answer whole, before any API routing."""

    def matches(self, host: str) -> bool: ...

    async def serve(self, request: HttpRequest, scope: dict[str, Any], signed: bool) -> HttpResponse: ...


class Provider:
    """Maps each operation to a coroutine method named after it (`SendMessage` -> `send_message`)."""

    #: the error a client gets for an operation of the model this provider does not implement
    unsupported_error_code = "UnknownOperationException"

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def dispatch(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> dict[str, Any] | None:
        handler: Handler | None = getattr(self, xform_name(operation), None)
        if handler is None:
            raise AwsError(self.unsupported_error_code, f"Operation {operation} is not supported by Eventyard.")
        if ctx.caller is not None:
            await self.authorize(ctx, operation, params)
        return await handler(ctx, params)

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        """With authentication on: raise the service's AWS error when the request names another
        account's resource whose resource policy does not grant it (runtime/access.py)."""

    async def start(self) -> None:
        """Start background work (pollers, dispatchers) once storage is ready."""

    async def stop(self) -> None:
        """Stop background work."""


@dataclass
class Service:
    name: str  # botocore's name, e.g. "sqs"
    signing_name: str  # SigV4 credential-scope name, e.g. "states" for stepfunctions
    target_prefix: str | None  # X-Amz-Target prefix for JSON protocols
    provider: Provider
    protocols: Sequence[WireProtocol]
    migrations: Sequence[Migration] = ()
    # Operations AWS answers without a signature besides the model's noAuth ones (SNS's
    # SubscribeURL and UnsubscribeURL are plain links an endpoint or a person follows).
    unsigned_operations: frozenset[str] = frozenset()
    host_handler: HostHandler | None = None

    def allows_unsigned(self, operation: OperationModel) -> bool:
        return operation.name in self.unsigned_operations or operation.auth_type == "none"

    @cached_property
    def has_unsigned_operations(self) -> bool:
        model = self.protocols[-1].model
        return bool(self.unsigned_operations) or any(
            model.operation_model(name).auth_type == "none" for name in model.operation_names)

    def protocol_for(self, request: HttpRequest) -> WireProtocol:
        """A protocol that recognizes the request as its own (CBOR by content type or path) first;
        then JSON when the request names an X-Amz-Target; otherwise the service's last-listed
        protocol (the query protocol, for services that speak both)."""
        for protocol in self.protocols:
            accepts = getattr(protocol, "accepts", None)
            if accepts is not None and accepts(request):
                return protocol
        if "x-amz-target" in request.headers:
            return self.protocols[0]
        return self.protocols[-1]

"""Which service and region a request is for: X-Amz-Target, the SigV4 scope, or the request itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from eventyard.config import DEFAULT_REGION
from eventyard.protocol.base import HttpRequest
from eventyard.services.base import HostHandler, Service

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Scope:
    access_key: str | None
    region: str
    service: str | None


def credential_scope(request: HttpRequest) -> Scope:
    match = _CREDENTIAL.search(request.headers.get("authorization", ""))
    if match is None and "X-Amz-Credential" in request.query_string:
        for key, value in parse_qsl(request.query_string):
            if key == "X-Amz-Credential":
                parts = value.split("/")
                if len(parts) == 5:
                    return Scope(parts[0], parts[2], parts[3])
    if match is None:
        return Scope(None, DEFAULT_REGION, None)
    return Scope(match.group(1), match.group(3), match.group(4))


class Router:
    def __init__(self, services: dict[str, Service]) -> None:
        self.by_target = {s.target_prefix: s for s in services.values() if s.target_prefix}
        self.by_signing_name = {s.signing_name: s for s in services.values()}
        self.services = services
        self.host_handlers = [s.host_handler for s in services.values() if s.host_handler is not None]

    def host_handler(self, host: str | None) -> HostHandler | None:
        """The service that owns this Host name outright (a function URL), if any."""
        for handler in self.host_handlers:
            if host and handler.matches(host):
                return handler
        return None

    def route(self, request: HttpRequest, scope: Scope) -> Service | None:
        target = request.headers.get("x-amz-target")
        if target:
            return self.by_target.get(target.partition(".")[0])
        if scope.service and scope.service in self.by_signing_name:
            return self.by_signing_name[scope.service]
        return self._guess_unsigned(request)

    def _guess_unsigned(self, request: HttpRequest) -> Service | None:
        """Unsigned raw requests (curl, form posts): SQS's queue-URL paths and QueueUrl params."""
        text = request.body.decode("utf-8", "replace") if request.method == "POST" else request.query_string
        if "Action=" in text or "Action=" in request.query_string:
            if "QueueUrl=" in text or "QueueName=" in text or re.match(r"^(/queue/[a-z0-9-]+)?/\d{12}/[^/]+$",
                                                                          request.path):
                return self.services.get("sqs")
            if "TopicArn=" in text or "SubscriptionArn=" in text:
                return self.services.get("sns")
            for name in ("sqs", "sns"):
                service = self.services.get(name)
                if service is None:
                    continue
                action = dict(parse_qsl(text)).get("Action", "")
                if action in service.protocols[-1].model.operation_names:
                    return service
        # rest-json services (lambda, scheduler) without a signature: the method and path pick one.
        for service in self.services.values():
            for protocol in service.protocols:
                matches = getattr(protocol, "matches", None)
                if matches is not None and matches(request):
                    return service
        return None

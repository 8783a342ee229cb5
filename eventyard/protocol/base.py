"""What every protocol offers the server: parse a request, render a result or an error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.model import OperationModel, ServiceModel


@dataclass
class HttpRequest:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw_path: str = ""  # still percent-encoded (rest-json labels may hold an escaped '/')


@dataclass
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    # A streamed body (e.g. an event stream): chunks are sent as they are produced, after `body`.
    stream: AsyncIterator[bytes] | None = None
    # Headers that repeat (Set-Cookie), sent after `headers`.
    header_list: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ParsedRequest:
    operation: OperationModel
    params: dict[str, Any]


class WireProtocol(Protocol):
    model: ServiceModel

    def parse(self, request: HttpRequest) -> ParsedRequest: ...

    def serialize(self, operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> HttpResponse: ...

    def serialize_error(self, error: Any, operation: OperationModel | None, request_id: str) -> HttpResponse: ...

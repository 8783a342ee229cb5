"""Raw requests for the fuzz tests: serialized by botocore as an SDK would, or hand-made malformed,
signed with SigV4, sent on a fresh connection; the answer's status, headers and body come back.

A connection the server drops, or an answer that does not come within the deadline, is an
assertion error here, so every fuzz test fails on a 5xx, a hang or a dropped connection alike.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import botocore.serialize
from botocore.model import OperationModel, ServiceModel

from tests.signing import signed_headers

DEADLINE = 30.0  # seconds: longer than any wait a request may ask for (WaitTimeSeconds <= 20)


@dataclass
class RawRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def describe(self) -> str:
        return f"{self.method} {self.path[:200]} {dict(list(self.headers.items())[:8])} {self.body[:300]!r}"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def signing_name(model: ServiceModel) -> str:
    return str(model.metadata.get("signingName") or model.metadata.get("endpointPrefix") or model.service_name)


def serialized(model: ServiceModel, protocol: str, operation: OperationModel, params: dict[str, Any]) -> RawRequest:
    """The request botocore's serializer for `protocol` makes of `params`."""
    serializer = botocore.serialize.create_serializer(protocol, include_validation=False)
    wire = serializer.serialize_to_request(params, operation)
    query = wire["query_string"]
    query_text = urlencode(query, doseq=True) if isinstance(query, dict) else query
    path = wire["url_path"] + (("&" if "?" in wire["url_path"] else "?") + query_text if query_text else "")
    body = wire["body"]
    if isinstance(body, str):
        body = body.encode()
    elif isinstance(body, dict):  # the query serializer hands back the form as a dict
        body = urlencode(body).encode()
        wire["headers"].setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    headers = {k: str(v) for k, v in wire["headers"].items()}
    for value in headers.values():  # what no HTTP client can send, no SDK sends either
        if any(c in value for c in "\r\n\x00") or not value.isprintable() or not _latin1(value):
            raise ValueError(f"header value {value!r} cannot be sent")
    return RawRequest(wire["method"], path, headers, body or b"")


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def sign(request: RawRequest, base_url: str, service: str) -> RawRequest:
    headers = signed_headers(request.method, base_url + request.path, request.body, request.headers, service)
    return RawRequest(request.method, request.path, headers, request.body)


def send(port: int, request: RawRequest, event_stream: bool = False) -> Answer:
    """Send one request; an event-stream answer is read up to its headers only (it may last minutes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        connection.putrequest(request.method, request.path, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": f"127.0.0.1:{port}", **request.headers}
        for name, value in headers.items():
            connection.putheader(name, value.encode("latin-1", "replace"))
        connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body)
        response = connection.getresponse()
        content_type = response.getheader("content-type", "")
        streaming = event_stream and response.status == 200 and "eventstream" in content_type
        body = b"" if streaming else response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    except TimeoutError as exc:
        raise AssertionError(f"no answer within {DEADLINE}s (hang): {request.describe()}") from exc
    except (ConnectionError, http.client.HTTPException) as exc:
        raise AssertionError(f"connection dropped ({exc!r}): {request.describe()}") from exc
    finally:
        connection.close()


def check_answer(answer: Answer, request: RawRequest) -> None:
    assert answer.status < 500, f"{answer.status} {answer.body[:400]!r} for {request.describe()}"

"""How much of a request the server reads: bodies over AWS's largest request are refused unread.

The largest request these APIs take is Lambda's CreateFunction with a 50 MB zip, base64-encoded in
JSON: AWS refuses anything larger with `RequestEntityTooLargeException` (413) and the same limit,
naming the operation (recorded: "Request must be smaller than 70167211 bytes for the CreateFunction
operation").
Every service's own, smaller limits (256 KiB events, 1 MiB messages) are checked by the service.
JSON nesting is limited where documents are read (protocol/json_documents.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from eventyard.protocol.errors import AwsError

MAX_REQUEST_BYTES = 70_167_211
# Past this much discarded body the connection is dropped instead of read to its end.
MAX_DISCARDED_BYTES = 2 * MAX_REQUEST_BYTES

Receive = Callable[[], Awaitable[dict[str, Any]]]


async def read_body(receive: Receive, limit: int = MAX_REQUEST_BYTES) -> bytes | None:
    """The request's body, or None when it is larger than `limit`. An oversized body is still read
    (and discarded) up to a bound, so the client gets the 413 instead of a reset connection."""
    body = bytearray()
    discarded = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        if discarded or len(body) + len(chunk) > limit:
            discarded += len(chunk) + len(body)
            body.clear()
        else:
            body.extend(chunk)
        if not message.get("more_body") or discarded > MAX_DISCARDED_BYTES or message["type"] == "http.disconnect":
            break
    return None if discarded else bytes(body)


def too_large(operation: str | None = None, limit: int = MAX_REQUEST_BYTES) -> AwsError:
    """The refusal of a body over `limit`, naming the operation where the request's route tells it."""
    where = f" for the {operation} operation" if operation else "."
    return AwsError("RequestEntityTooLargeException", f"Request must be smaller than {limit} bytes{where}", 413)

"""Request bodies a client compressed (`Content-Encoding: gzip`), as models with the
`requestcompression` trait allow (CloudWatch's PutMetricData: botocore gzips bodies over 10 KiB)."""

from __future__ import annotations

import dataclasses
import zlib

from eventyard.protocol.base import HttpRequest
from eventyard.protocol.errors import AwsError

MAX_INFLATED = 16 * 1024 * 1024  # a small gzip body may inflate enormously: stop well before memory does


def decompressed(request: HttpRequest) -> HttpRequest:
    """The request with its body inflated when it says it is gzip; otherwise the request itself."""
    encodings = [e.strip().lower() for e in request.headers.get("content-encoding", "").split(",") if e.strip()]
    if "gzip" not in encodings or not request.body:
        return request
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(request.body, MAX_INFLATED)
    except zlib.error as exc:
        raise AwsError("SerializationException", "The request body is not valid gzip.", 400) from exc
    if inflater.unconsumed_tail:
        raise AwsError("RequestEntityTooLarge", "The decompressed request body is too large.", 413)
    rest = [e for e in encodings if e != "gzip"]
    headers = {**request.headers, "content-encoding": ", ".join(rest)} if rest else \
        {k: v for k, v in request.headers.items() if k != "content-encoding"}
    return dataclasses.replace(request, body=body, headers=headers)

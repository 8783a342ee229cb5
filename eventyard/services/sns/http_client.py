"""A minimal asyncio HTTP/1.1 POST for http/https subscriptions (no third-party client needed)."""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

TIMEOUT = 15.0  # SNS gives an HTTP/S endpoint 15 seconds to answer


async def post(url: str, headers: dict[str, str], body: bytes, timeout: float = TIMEOUT) -> int:
    """POST `body` and return the response status; raises OSError/TimeoutError when unreachable."""
    return await asyncio.wait_for(_post(url, headers, body), timeout)


async def _post(url: str, headers: dict[str, str], body: bytes) -> int:
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or "localhost"
    port = parts.port or (443 if secure else 80)
    context = ssl.create_default_context() if secure else None
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.netloc.rpartition("@")[2]
        lines = [f"POST {target} HTTP/1.1", f"Host: {host_header}", f"Content-Length: {len(body)}",
                 "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status_line = await reader.readline()
        fields = status_line.decode("latin-1").split(" ", 2)
        if len(fields) < 2 or not fields[1].isdigit():
            raise OSError(f"malformed HTTP response from {url!r}")
        # Drain the rest so the peer is not cut off mid-response.
        try:
            await asyncio.wait_for(reader.read(), 5.0)
        except (TimeoutError, OSError):
            pass
        return int(fields[1])
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass

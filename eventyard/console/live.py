"""Live updates over server-sent events.

A page marks the parts that change (depths, progress, execution states) with `data-live="<fragment
URL>"`; its script opens one `EventSource` on `/live?src=...`. The server renders each fragment once
a second through the same GET handlers the page used and pushes the HTML only when it changed.
A stream ends after a while (the browser reconnects at once, `retry:`), so a server shutting down
never waits long on open pages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from eventyard.console.routing import Routes
from eventyard.console.web import MOUNT, ConsoleRequest
from eventyard.protocol.base import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
TICK_SECONDS = 1.0
STREAM_SECONDS = 15.0
MAX_SOURCES = 8


@routes.get("live")
async def live(console: Console, request: ConsoleRequest) -> HttpResponse:
    sources = [value for key, value in parse_qsl(request.http.query_string) if key == "src"]
    sources = [s for s in sources if _is_fragment_url(s)][:MAX_SOURCES]
    return HttpResponse(200, b"retry: 1000\n\n", {
        "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no",
    }, stream=_updates(console, request, sources))


def _is_fragment_url(src: str) -> bool:
    path = urlsplit(src).path
    return path.startswith(MOUNT + "/") and not path.startswith((f"{MOUNT}/live", f"{MOUNT}/static/"))


async def _updates(console: Console, request: ConsoleRequest, sources: list[str]) -> AsyncIterator[bytes]:
    sent: dict[str, str] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    while loop.time() < deadline:
        for src in sources:
            body = await _render(console, request, src)
            if body is None:
                continue
            digest = hashlib.sha256(body).hexdigest()
            if sent.get(src) != digest:
                sent[src] = digest
                document = json.dumps({"src": src, "html": body.decode()})
                yield f"event: fragment\ndata: {document}\n\n".encode()
        yield b": tick\n\n"  # also how a vanished client is noticed
        await asyncio.sleep(TICK_SECONDS)


async def _render(console: Console, request: ConsoleRequest, src: str) -> bytes | None:
    """The fragment's HTML as its GET handler renders it for this user, or None if it failed."""
    parts = urlsplit(src)
    fragment = ConsoleRequest.of(HttpRequest("GET", parts.path, parts.query, {"hx-request": "true"}, b""))
    fragment.account_id = request.account_id
    if not dict(parse_qsl(parts.query)).get("region"):
        fragment.query["region"] = request.region
    response = await console.dispatch(fragment)
    return response.body if response.status == 200 else None

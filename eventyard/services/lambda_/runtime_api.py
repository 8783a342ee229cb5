"""The Lambda Runtime API for one execution environment.

AWS gives every sandbox its own endpoint (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001`) and the runtime
client never says who it is, so each Eventyard worker gets its own small listener on 127.0.0.1: the
endpoint itself identifies the worker. It speaks just enough HTTP/1.1 for runtime clients
(awslambdaric's libcurl client, Node, curl in a `bootstrap`): keep-alive, Content-Length and
chunked bodies, `Expect: 100-continue`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

PREFIX = "/2018-06-01/runtime/"
Reply = tuple[int, dict[str, str], bytes]
Handler = Callable[[str, str, dict[str, str], bytes], Awaitable[Reply]]


class RuntimeApiServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self._connections: set[asyncio.StreamWriter] = set()
        # Each connection's handler task. A runtime client parks in GET /next until an invocation
        # comes, so closing the listener and the sockets does not end them: close() cancels them and
        # waits, or they would be left pending when the worker (or the loop) goes away.
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{self.port}"

    async def close(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        server.close()
        for writer in list(self._connections):
            writer.close()
        handlers = [task for task in self._handlers if task is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self.server is None or task is None:  # closed while this connection was being accepted
            writer.close()
            return
        self._handlers.add(task)
        self._connections.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = await _read_body(reader, headers)
                path = target.split("?", 1)[0]
                status, out_headers, out_body = await self.handler(method, path, headers, body)
                writer.write(_response(status, out_headers, out_body))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            if self.server is not None:
                raise
            # Cancelled by close(): end quietly. On Python 3.11, asyncio's connection callback calls
            # exception() on a cancelled handler task, which raises and logs "Exception in callback".
            return
        finally:
            self._handlers.discard(task)
            self._connections.discard(writer)
            writer.close()


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return bytes(chunks)
            chunks.extend(await reader.readexactly(size))
            await reader.readexactly(2)
    length = int(headers.get("content-length") or 0)
    return await reader.readexactly(length) if length else b""


_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            413: "Payload Too Large", 500: "Internal Server Error"}


def _response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}"]
    merged = {"Content-Type": "application/json", **headers, "Content-Length": str(len(body))}
    lines.extend(f"{k}: {v}" for k, v in merged.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_reply(status: int, document: Any) -> Reply:
    return status, {}, json.dumps(document).encode()

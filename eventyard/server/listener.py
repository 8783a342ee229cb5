"""One port for HTTP/1.1 and HTTP/2: a connection's first bytes (or TLS's ALPN) pick its protocol.

HTTP/2 clients announce themselves: over TLS by choosing `h2` in ALPN, in cleartext ("prior
knowledge", what Node's http2 module sends to an `http://` endpoint) by opening with the fixed
connection preface. Every other connection is handed, untouched, to uvicorn's own httptools
protocol, so HTTP/1.1 keeps its speed: the sniffer looks at the first packet only and then
leaves the connection (`transport.set_protocol`), costing nothing per request.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, ClassVar, cast

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from eventyard.server.coalesce import CoalescingTransport
from eventyard.server.http2 import Http2Connection

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ALPN_PROTOCOLS = ["h2", "http/1.1"]


class HttpVersionSniffer(asyncio.Protocol):
    """uvicorn's `http` protocol class: decides HTTP/1.1 or HTTP/2 per connection, then steps aside."""

    # uvicorn versions that read this attribute offer h2 in ALPN themselves; `build_server` also sets it.
    alpn_protocols: ClassVar[list[str]] = ALPN_PROTOCOLS

    def __init__(self, config: uvicorn.Config, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2":
            self._hand_over(Http2Connection)
            return
        self.server_state.connections.add(self)  # so a shutdown closes a connection that never spoke

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) < len(HTTP2_PREFACE) and HTTP2_PREFACE.startswith(self.buffer):
            return  # the preface may arrive split; wait for the rest before deciding
        self.server_state.connections.discard(self)
        self._hand_over(Http2Connection if self.buffer.startswith(HTTP2_PREFACE) else HttpToolsProtocol)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)

    def _loop(self) -> asyncio.AbstractEventLoop:
        return self.loop or asyncio.get_running_loop()

    def shutdown(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _hand_over(self, protocol_class: type[asyncio.Protocol]) -> None:
        assert self.transport is not None
        protocol = protocol_class(config=self.config, server_state=self.server_state,  # type: ignore[call-arg]
                                  app_state=self.app_state, _loop=self.loop)
        self.transport.set_protocol(protocol)
        if protocol_class is HttpToolsProtocol:  # one send per response (server/coalesce.py)
            protocol.connection_made(cast(asyncio.Transport, CoalescingTransport(self.transport, self._loop())))
        else:
            protocol.connection_made(self.transport)
        if self.buffer:
            data, self.buffer = self.buffer, b""
            protocol.data_received(data)


def build_server(app: Any, *, host: str, port: int, log_level: str, tls_cert: str | None = None,
                 tls_key: str | None = None, **options: Any) -> uvicorn.Server:
    """A uvicorn server whose connections speak HTTP/1.1 or HTTP/2 (h2c, or h2 over TLS)."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="on",
                            http=HttpVersionSniffer, ssl_certfile=tls_cert, ssl_keyfile=tls_key, **options)
    config.load()
    if isinstance(config.ssl, ssl.SSLContext):
        config.ssl.set_alpn_protocols(ALPN_PROTOCOLS)
    return uvicorn.Server(config)

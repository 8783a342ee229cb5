"""HTTP/2 for the ASGI app, on the `h2` state machine (python-hyper).

uvicorn serves HTTP/1.1 only (its experimental HTTP/2 path replaces the httptools parser for every
connection). Some SDKs speak HTTP/2 only: the AWS SDK for JavaScript v3's Kinesis client sends
every call over it, and SubscribeToShard needs it in every SDK that has it. This protocol serves
those connections; `server/listener.py` hands it the ones that open with the HTTP/2 preface (or
chose `h2` by ALPN over TLS) and gives every other connection to uvicorn's own HTTP/1.1 protocol.

Each stream runs the app as its own task. Response DATA respects both flow-control windows (a
stream waits for WINDOW_UPDATE instead of buffering without bound) and the transport's write
buffer; request bodies are acknowledged as the app reads them. A reset stream, a GOAWAY or a
lost connection ends the stream's `receive()` with `http.disconnect`, which stops a streamed
response (SubscribeToShard) when its reader goes away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

log = logging.getLogger("eventyard.http2")

App = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]

# RFC 9113 8.2.2: connection-specific header fields must not appear in HTTP/2 messages.
_CONNECTION_HEADERS = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"})
_STREAM_WINDOW = 1 << 20  # per-stream receive window we grant (the default 64 KiB slows large uploads)


class _GracefulGoawayStateMachine(h2.connection.H2ConnectionStateMachine):
    """`h2` closes the whole connection on any GOAWAY it receives, but a client's GOAWAY only says it
    opens no more streams: the ones it opened finish (RFC 9113 6.8). The JS SDK's Kinesis client
    sends one right after each response's headers (one session per call), so SubscribeToShard's
    events must still flow after it. The connection stays open here; `Http2Connection` accepts no
    new stream and closes once the last one ends."""

    def process_input(self, input_: h2.connection.ConnectionInputs) -> list[h2.events.Event]:
        if input_ is h2.connection.ConnectionInputs.RECV_GOAWAY and self.state is h2.connection.ConnectionState.SERVER_OPEN:
            return []
        return super().process_input(input_)


class Http2Stream:
    """One request/response exchange: the ASGI `receive` and `send` of one stream."""

    def __init__(self, connection: Http2Connection, stream_id: int, scope: dict[str, Any]) -> None:
        self.connection = connection
        self.stream_id = stream_id
        self.scope = scope
        self.body: list[tuple[bytes, int]] = []  # (data, flow-controlled length) not yet read by the app
        self.request_complete = False
        self.request_delivered = False
        self.response_started = False
        self.response_complete = False
        self.disconnected = False
        self.changed = asyncio.Event()  # request data, end of request, disconnect
        self.window_open = asyncio.Event()  # the peer granted more send window

    def wake(self) -> None:
        self.changed.set()
        self.window_open.set()

    async def receive(self) -> dict[str, Any]:
        while not self.disconnected and not self.response_complete:
            if self.body or (self.request_complete and not self.request_delivered):
                return self._take_body()
            self.changed.clear()
            await self.changed.wait()
        return {"type": "http.disconnect"}

    def _take_body(self) -> dict[str, Any]:
        data = b"".join(chunk for chunk, _ in self.body)
        self.connection.acknowledge(self.stream_id, sum(length for _, length in self.body))
        self.body.clear()
        if self.request_complete:
            self.request_delivered = True
        return {"type": "http.request", "body": data, "more_body": not self.request_complete}

    async def send(self, message: dict[str, Any]) -> None:
        if self.disconnected:
            return
        kind = message["type"]
        if kind == "http.response.start" and not self.response_started:
            self.response_started = True
            self.connection.send_headers(self.stream_id, message["status"], message.get("headers", []))
        elif kind == "http.response.body" and self.response_started and not self.response_complete:
            last = not message.get("more_body", False)
            await self._send_data(message.get("body", b""), last)
            if last and not self.disconnected:
                self.response_complete = True
                self.changed.set()  # a receive() waiting for a disconnect can stop waiting
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on HTTP/2 stream {self.stream_id}")

    async def _send_data(self, data: bytes, last: bool) -> None:
        """DATA frames within the peer's windows; the last one carries END_STREAM when `last`."""
        view = memoryview(data)
        while view and not self.disconnected:
            window = self.connection.send_window(self.stream_id)
            if window <= 0:
                self.window_open.clear()
                await self.window_open.wait()
                continue
            chunk, view = view[:window], view[window:]
            self.connection.send_data(self.stream_id, bytes(chunk), end_stream=last and not view)
            await self.connection.drain()
        if last and not data and not self.disconnected:
            self.connection.end_stream(self.stream_id)


class Http2Connection(asyncio.Protocol):
    """An HTTP/2 server connection that runs an ASGI app per stream.

    Built like uvicorn's own protocols (same constructor), so the listener can swap it in and
    uvicorn's graceful shutdown (`shutdown()`, `server_state.tasks`) covers it."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.app: App = config.loaded_app
        self.root_path: str = config.root_path
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop or asyncio.get_event_loop()
        # Outbound headers are ours (lower-case, no connection headers): h2 need not check them again.
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_outbound_headers=False, normalize_outbound_headers=False))
        self.h2.state_machine = _GracefulGoawayStateMachine()
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, Http2Stream] = {}
        self.writable = asyncio.Event()
        self.writable.set()
        self.closing = False
        self.flush_scheduled = False
        self.scheme = "http"
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None

    # --- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self.server_state.connections.add(self)
        self.scheme = "https" if transport.get_extra_info("ssl_object") is not None else "http"
        self.server = _address(transport.get_extra_info("sockname"))
        self.client = _address(transport.get_extra_info("peername"))
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 128,
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW,
        })
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(8 * _STREAM_WINDOW)  # connection-level window
        self.flush()

    def data_received(self, data: bytes) -> None:
        if self.flush_scheduled:
            self.flush()  # h2 drops frames still queued when a GOAWAY arrives; send them first
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as error:
            log.debug("HTTP/2 protocol error: %s", error)
            self.flush()
            self._close()
            return
        for event in events:
            self._handle(event)
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        self.closing = True
        for stream in self.streams.values():
            stream.disconnected = True
            stream.wake()
        self.streams.clear()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: refuse new streams (GOAWAY) and close once the open ones end."""
        self.closing = True
        if self.transport is None or self.transport.is_closing():
            return
        self.h2.close_connection(last_stream_id=max(self.streams, default=0))
        self.flush()
        if not self.streams:
            self._close()

    # --- events from the peer -----------------------------------------------------------------
    def _handle(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self._start_stream(event.stream_id, event.headers or [], ended=event.stream_ended is not None)
        elif isinstance(event, h2.events.DataReceived):
            stream = self.streams.get(event.stream_id)
            if stream is None:
                self.acknowledge(event.stream_id, event.flow_controlled_length)
            else:
                stream.body.append((event.data or b"", event.flow_controlled_length or 0))
                stream.changed.set()
        elif isinstance(event, h2.events.StreamEnded):
            stream = self.streams.get(event.stream_id)
            if stream is not None:
                stream.request_complete = True
                stream.changed.set()
        elif isinstance(event, h2.events.StreamReset):
            self._drop(event.stream_id)
        elif isinstance(event, h2.events.WindowUpdated):
            targets = self.streams.values() if event.stream_id == 0 else filter(None, [self.streams.get(event.stream_id)])
            for stream in targets:
                stream.window_open.set()
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            for stream in self.streams.values():
                stream.window_open.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.closing = True
            if event.error_code == h2.errors.ErrorCodes.NO_ERROR and self.streams:
                return  # graceful: the open streams finish, then `_forget` closes the connection
            for stream_id in list(self.streams):
                self._drop(stream_id)
            self._close()

    def _start_stream(self, stream_id: int, headers: list[tuple[bytes, bytes]], ended: bool) -> None:
        if self.closing:
            self.h2.reset_stream(stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
            return
        scope = self._scope(headers)
        stream = Http2Stream(self, stream_id, scope)
        stream.request_complete = ended
        self.streams[stream_id] = stream
        task = self.loop.create_task(self._run(stream))
        self.server_state.tasks.add(task)
        task.add_done_callback(self.server_state.tasks.discard)

    def _scope(self, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        pseudo: dict[bytes, bytes] = {}
        regular: list[tuple[bytes, bytes]] = []
        for name, value in headers:
            if name.startswith(b":"):
                pseudo[name] = value
            else:
                regular.append((name, value))
        if b":authority" in pseudo and not any(name == b"host" for name, _ in regular):
            regular.insert(0, (b"host", pseudo[b":authority"]))  # the HTTP/1.1 view every ASGI app expects
        raw_path, _, query = pseudo.get(b":path", b"/").partition(b"?")
        return {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "2",
            "server": self.server, "client": self.client, "scheme": self.scheme,
            "method": pseudo.get(b":method", b"GET").decode("ascii"), "root_path": self.root_path,
            "path": self.root_path + unquote(raw_path.decode("latin-1")), "raw_path": raw_path,
            "query_string": query, "headers": regular, "state": dict(self.app_state),
        }

    async def _run(self, stream: Http2Stream) -> None:
        try:
            await self.app(stream.scope, stream.receive, stream.send)
        except Exception:
            log.exception("exception in ASGI application (HTTP/2 stream %d)", stream.stream_id)
            if not stream.response_started and not stream.disconnected:
                await stream.send({"type": "http.response.start", "status": 500,
                                   "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await stream.send({"type": "http.response.body", "body": b"Internal Server Error"})
        finally:
            if not stream.response_complete and not stream.disconnected:
                self._reset(stream.stream_id)
            self.server_state.total_requests += 1
            self._forget(stream.stream_id)

    # --- what streams ask of the connection -----------------------------------------------------
    def send_headers(self, stream_id: int, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        fields = [(b":status", str(status).encode())]
        fields += [(name.lower(), value) for name, value in self.server_state.default_headers
                   if name.lower() not in _CONNECTION_HEADERS]
        fields += [(name.lower(), value) for name, value in headers if name.lower() not in _CONNECTION_HEADERS]
        self.h2.send_headers(stream_id, fields)
        self.schedule_flush()

    def send_window(self, stream_id: int) -> int:
        try:
            window = self.h2.local_flow_control_window(stream_id)
        except h2.exceptions.StreamClosedError:
            self._drop(stream_id)
            return 0
        return min(window, self.h2.max_outbound_frame_size)

    def send_data(self, stream_id: int, data: bytes, end_stream: bool) -> None:
        self.h2.send_data(stream_id, data, end_stream=end_stream)
        self.schedule_flush()

    def end_stream(self, stream_id: int) -> None:
        self.h2.end_stream(stream_id)
        self.schedule_flush()

    def acknowledge(self, stream_id: int, length: int) -> None:
        if length and not self.closing:
            self.h2.acknowledge_received_data(length, stream_id)
            self.schedule_flush()

    async def drain(self) -> None:
        if not self.writable.is_set():
            await self.writable.wait()

    def schedule_flush(self) -> None:
        """Write what h2 queued once this turn of the event loop ends: the frames of every stream
        answered in the same turn leave in one write (one system call) instead of one each."""
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        data = self.h2.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    # --- stream and connection ends ----------------------------------------------------------------
    def _reset(self, stream_id: int) -> None:
        try:
            self.h2.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
        except h2.exceptions.StreamClosedError:
            return
        self.flush()

    def _drop(self, stream_id: int) -> None:
        """The peer reset the stream (or the connection ended): the app sees a disconnect."""
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            stream.disconnected = True
            stream.wake()
            unread = sum(length for _, length in stream.body)
            stream.body.clear()
            self.acknowledge(stream_id, unread)  # give the connection window back

    def _forget(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None and stream.body:
            self.acknowledge(stream_id, sum(length for _, length in stream.body))
        if self.closing and not self.streams:
            self._close()

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.flush()
            self.transport.close()


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None

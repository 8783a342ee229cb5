"""A small blocking HTTP/2 client on the `h2` state machine, for tests that need to see frames:
prior-knowledge h2c or h2 over TLS (ALPN), several streams on one connection, a chosen receive
window, and resets."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events
import h2.settings


@dataclass
class Response:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False
    reset: bool = False


class H2Client:
    def __init__(self, url: str, *, window: int | None = None, auto_acknowledge: bool = True,
                 tls_context: ssl.SSLContext | None = None, preface_chunk: int | None = None) -> None:
        parts = urlsplit(url)
        self.authority = parts.netloc
        self.scheme = parts.scheme
        raw = socket.create_connection((parts.hostname, parts.port), timeout=30)
        if tls_context is not None:
            tls_context.set_alpn_protocols(["h2"])
            self.sock: socket.socket = tls_context.wrap_socket(raw, server_hostname=parts.hostname)
            self.alpn = self.sock.selected_alpn_protocol()  # type: ignore[attr-defined]
        else:
            self.sock = raw
            self.alpn = None
        self.auto_acknowledge = auto_acknowledge
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.responses: dict[int, Response] = {}
        self.unsent: dict[int, bytes] = {}
        data = self.conn.data_to_send()
        if preface_chunk:  # the preface split over several packets, as a slow sender might
            for i in range(0, len(data), preface_chunk):
                self.sock.sendall(data[i:i + preface_chunk])
        else:
            self.sock.sendall(data)

    def start(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> int:
        stream_id = self.conn.get_next_available_stream_id()
        fields = [(":method", method), (":path", path), (":scheme", self.scheme), (":authority", self.authority)]
        fields += [(k.lower(), v) for k, v in (headers or {}).items() if k.lower() != "host"]
        self.conn.send_headers(stream_id, fields, end_stream=not body)
        self.responses[stream_id] = Response()
        if body:
            self.unsent[stream_id] = body
        self._send_bodies()
        return stream_id

    def _send_bodies(self) -> None:
        """Request bodies go out as the server's flow-control windows allow."""
        for stream_id, body in list(self.unsent.items()):
            window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            while body and window > 0:
                chunk, body = body[:window], body[window:]
                self.conn.send_data(stream_id, chunk, end_stream=not body)
                window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if body:
                self.unsent[stream_id] = body
            else:
                del self.unsent[stream_id]
        self.sock.sendall(self.conn.data_to_send())

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Response:
        stream_id = self.start(method, path, headers, body)
        while not (self.responses[stream_id].ended or self.responses[stream_id].reset):
            self.pump()
        return self.responses[stream_id]

    def pump(self) -> list[h2.events.Event]:
        """Read one batch of frames and apply them to the responses."""
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        events = self.conn.receive_data(data)
        for event in events:
            if isinstance(event, h2.events.ResponseReceived):
                response = self.responses[event.stream_id]
                for name, value in event.headers or []:
                    name, value = str(name), str(value)
                    if name == ":status":
                        response.status = int(value)
                    else:
                        response.headers[name] = value
            elif isinstance(event, h2.events.DataReceived):
                self.responses[event.stream_id].body.extend(event.data or b"")
                if self.auto_acknowledge:
                    self.conn.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self.responses[event.stream_id].ended = True
            elif isinstance(event, h2.events.StreamReset):
                self.responses[event.stream_id].reset = True
        self._send_bodies()
        return events

    def acknowledge(self, stream_id: int, length: int) -> None:
        self.conn.acknowledge_received_data(length, stream_id)
        self.sock.sendall(self.conn.data_to_send())

    def reset(self, stream_id: int) -> None:
        self.conn.reset_stream(stream_id)
        self.sock.sendall(self.conn.data_to_send())

    def close(self) -> None:
        try:
            self.conn.close_connection()
            self.sock.sendall(self.conn.data_to_send())
        except OSError:
            pass
        self.sock.close()

"""HTTP/2 next to HTTP/1.1 on one port: h2c with prior knowledge, h2 over TLS (ALPN), multiplexed
streams, flow control that holds a streamed response back, and streams that stop when their reader
goes away."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hyperframe.frame import GoAwayFrame

from eventyard.server.listener import build_server
from tests.conftest import CLIENT_CONFIG, ServerProcess, free_port
from tests.h2client import H2Client
from tests.signing import signed_headers

CHUNK = 16384


def wait_for(condition: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class StreamingApp:
    """An ASGI app whose /stream answer never ends on its own: it sends 16 KiB chunks until the
    client goes away, and records what it saw."""

    def __init__(self) -> None:
        self.chunks_sent = 0
        self.in_send = False
        self.saw_disconnect = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] != "/stream":
            answer = json.dumps({"http_version": scope["http_version"], "path": scope["path"],
                                 "host": dict(scope["headers"]).get(b"host", b"").decode(),
                                 "body_sha256": hashlib.sha256(body).hexdigest()}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": answer})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        disconnected = asyncio.ensure_future(receive())
        while not disconnected.done():
            self.in_send = True
            await send({"type": "http.response.body", "body": b"x" * CHUNK, "more_body": True})
            self.in_send = False
            self.chunks_sent += 1
            await asyncio.sleep(0)
        assert disconnected.result()["type"] == "http.disconnect"
        self.saw_disconnect.set()


@pytest.fixture
def streaming_app() -> Iterator[tuple[StreamingApp, str]]:
    app = StreamingApp()
    server = build_server(app, host="127.0.0.1", port=free_port(), log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, what="the in-process server")
    yield app, f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(30)


def test_a_stream_waits_for_the_clients_window_instead_of_buffering(streaming_app: tuple[StreamingApp, str]) -> None:
    app, url = streaming_app
    client = H2Client(url, auto_acknowledge=False)  # 65,535-byte windows that we never reopen ... at first
    stream_id = client.start("GET", "/stream")
    received = lambda: len(client.responses[stream_id].body)  # noqa: E731
    while received() < 65535:
        client.pump()  # h2 raises FlowControlError if the server sent beyond the window
    wait_for(lambda: app.in_send, what="the producer to block in send()")
    assert app.chunks_sent <= 65535 // CHUNK
    client.acknowledge(stream_id, 65535)
    while received() < 2 * 65535:
        client.pump()
    assert app.chunks_sent > 65535 // CHUNK
    client.close()


def test_a_streamed_response_stops_when_the_client_resets_the_stream(streaming_app: tuple[StreamingApp, str]) -> None:
    app, url = streaming_app
    client = H2Client(url)
    stream_id = client.start("GET", "/stream")
    while len(client.responses[stream_id].body) < 4 * CHUNK:
        client.pump()
    client.reset(stream_id)
    wait_for(app.saw_disconnect.is_set, what="the app to see http.disconnect")
    answer = client.request("POST", "/echo", body=b"still here")  # the connection itself lives on
    assert answer.status == 200 and json.loads(answer.body)["http_version"] == "2"
    client.close()


def test_a_streamed_response_stops_when_the_connection_drops(streaming_app: tuple[StreamingApp, str]) -> None:
    app, url = streaming_app
    client = H2Client(url)
    stream_id = client.start("GET", "/stream")
    while len(client.responses[stream_id].body) < CHUNK:
        client.pump()
    client.sock.close()
    wait_for(app.saw_disconnect.is_set, what="the app to see http.disconnect")


def test_a_stream_keeps_flowing_after_the_clients_graceful_goaway(streaming_app: tuple[StreamingApp, str]) -> None:
    """The JS SDK's Kinesis client says GOAWAY right after each response's headers; SubscribeToShard's
    events must still arrive, and the connection closes once the stream ends."""
    app, url = streaming_app
    client = H2Client(url)
    stream_id = client.start("GET", "/stream")
    while len(client.responses[stream_id].body) < CHUNK:
        client.pump()
    client.sock.sendall(GoAwayFrame(0, last_stream_id=0, error_code=0).serialize())  # frame only: our h2 stays open
    seen = len(client.responses[stream_id].body)
    while len(client.responses[stream_id].body) < seen + 4 * CHUNK:
        client.pump()
    client.reset(stream_id)
    wait_for(app.saw_disconnect.is_set, what="the app to see http.disconnect")
    with pytest.raises(ConnectionError):
        while True:
            client.pump()  # the server closes the connection: no stream is left
    client.sock.close()


def test_streams_are_multiplexed_and_request_bodies_larger_than_a_window_arrive_whole(
        streaming_app: tuple[StreamingApp, str]) -> None:
    _, url = streaming_app
    client = H2Client(url)
    bodies = {client.start("POST", f"/echo/{i}", body=bytes([i]) * (200_000 + i)): bytes([i]) * (200_000 + i)
              for i in range(6)}
    while not all(client.responses[s].ended for s in bodies):
        client.pump()
    for stream_id, body in bodies.items():
        answer = json.loads(client.responses[stream_id].body)
        assert answer["body_sha256"] == hashlib.sha256(body).hexdigest()
        assert answer["host"] == url.removeprefix("http://")  # :authority becomes Host for the app
    client.close()


def test_a_preface_split_over_several_packets_is_still_recognised(streaming_app: tuple[StreamingApp, str]) -> None:
    _, url = streaming_app
    client = H2Client(url, preface_chunk=5)
    assert json.loads(client.request("GET", "/echo").body)["http_version"] == "2"
    client.close()


def _sqs_call(client: H2Client, url: str, target: str, document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = json.dumps(document).encode()
    headers = signed_headers("POST", f"{url}/", body, {"Content-Type": "application/x-amz-json-1.0",
                                                       "X-Amz-Target": f"AmazonSQS.{target}"}, "sqs")
    answer = client.request("POST", "/", headers, body)
    return answer.status, json.loads(answer.body)


def test_sdk_calls_over_h2c_and_http11_share_one_port(server: ServerProcess, unique: str) -> None:
    sqs = server.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"h2-{unique}")["QueueUrl"]
    client = H2Client(server.url)
    status, answer = _sqs_call(client, server.url, "GetQueueUrl", {"QueueName": f"h2-{unique}"})
    assert (status, answer) == (200, {"QueueUrl": queue_url})
    # several calls in flight on one connection at once
    streams = []
    for i in range(8):
        body = json.dumps({"QueueUrl": queue_url, "MessageBody": f"m{i}"}).encode()
        headers = signed_headers("POST", f"{server.url}/", body, {"Content-Type": "application/x-amz-json-1.0",
                                                                  "X-Amz-Target": "AmazonSQS.SendMessage"}, "sqs")
        streams.append((client.start("POST", "/", headers, body), f"m{i}"))
    while not all(client.responses[s].ended for s, _ in streams):
        client.pump()
    for stream_id, text in streams:
        assert client.responses[stream_id].status == 200
        assert json.loads(client.responses[stream_id].body)["MD5OfMessageBody"] == hashlib.md5(text.encode()).hexdigest()
    client.close()
    assert int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"]) == 8


def test_the_door_still_refuses_unsigned_calls_over_h2(server: ServerProcess) -> None:
    client = H2Client(server.url)
    answer = client.request("POST", "/", {"content-type": "application/x-amz-json-1.0",
                                          "x-amz-target": "AmazonSQS.ListQueues"}, b"{}")
    assert answer.status == 403
    assert "MissingAuthenticationToken" in answer.body.decode()
    client.close()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                               x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TlsServerProcess(ServerProcess):
    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TlsServerProcess, Path]]:
    cert, key = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the fixture's health check (urllib) trusts the certificate
    monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))  # and so does its boto3 set-up
    process = TlsServerProcess(tmp_path / "data", env={"EVENTYARD_TLS_CERT": str(cert), "EVENTYARD_TLS_KEY": str(key)})
    process.start()
    yield process, cert
    process.stop()


def test_tls_serves_h2_by_alpn_and_http11_on_the_same_port(tls_server: tuple[TlsServerProcess, Path],
                                                           unique: str) -> None:
    process, cert = tls_server
    sqs = boto3.client("sqs", endpoint_url=process.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret", config=CLIENT_CONFIG, verify=str(cert))
    queue_url = sqs.create_queue(QueueName=f"tls-{unique}")["QueueUrl"]
    assert queue_url.startswith(f"{process.url}/")
    client = H2Client(process.url, tls_context=ssl.create_default_context(cafile=str(cert)))
    assert client.alpn == "h2"
    status, answer = _sqs_call(client, process.url, "GetQueueUrl", {"QueueName": f"tls-{unique}"})
    assert (status, answer) == (200, {"QueueUrl": queue_url})
    client.close()

"""What the server keeps on its host stays the host's: secrets are owner-only files, functions see
AWS's paths (/var/task) in their stack traces and logs, local code comes only from a configured
folder, and health names the database's location only to the machine itself."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from eventyard.config import Settings
from eventyard.protocol.base import HttpRequest
from eventyard.server.app import EventyardApp
from eventyard.storage import open_database
from tests.conftest import ServerProcess
from tests.lambda_.conftest import ROLE, make_zip

FAILING_HANDLER = "def handler(event, context):\n    print('running', __file__)\n    raise ValueError('boom')\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _legacy_signing_key(directory: Path) -> None:
    """A signing key and certificate left in the data directory by an older Eventyard, world-readable."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    certificate = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()) \
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256())
    directory.mkdir(parents=True)
    (directory / "sns-signing-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (directory / "sns-signing-cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "sns-signing-key.pem").chmod(0o644)


@pytest.fixture(scope="module")
def host_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("host")
    (base / "code-root" / "allowed").mkdir(parents=True)
    (base / "code-root" / "allowed" / "app.py").write_text(FAILING_HANDLER)
    (base / "elsewhere").mkdir()
    (base / "elsewhere" / "app.py").write_text(FAILING_HANDLER)
    _legacy_signing_key(base / "data")
    process = ServerProcess(base / "data", env={"EVENTYARD_LAMBDA_CODE_ROOT": str(base / "code-root")},
                            storage="sqlite").start()  # the file modes checked are SQLite's
    yield process
    process.stop()


def test_the_database_and_a_legacy_signing_key_are_readable_by_their_owner_only(host_server: ServerProcess) -> None:
    host_server.client("sqs").create_queue(QueueName="touch")  # the WAL exists once something is written
    data = host_server.data_dir
    for name in ("eventyard.sqlite3", "eventyard.sqlite3-wal", "sns-signing-key.pem"):
        assert mode(data / name) & 0o077 == 0, (name, oct(mode(data / name)))


def test_a_new_data_directory_is_the_owners_alone(tmp_path: Path) -> None:
    database = open_database(tmp_path / "fresh" / "data")
    try:
        assert mode(tmp_path / "fresh" / "data") & 0o077 == 0
        assert mode(tmp_path / "fresh" / "data" / "eventyard.sqlite3") & 0o077 == 0
    finally:
        database.close()


def _invoke_failing(lam: Any, name: str) -> tuple[dict[str, Any], str]:
    answer = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    assert answer["FunctionError"] == "Unhandled"
    return json.loads(answer["Payload"].read()), base64.b64decode(answer["LogResult"]).decode()


def test_stack_traces_and_log_lines_name_var_task_not_the_data_directory(host_server: ServerProcess) -> None:
    lam = host_server.client("lambda")
    lam.create_function(FunctionName="traced", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": FAILING_HANDLER})})
    error, log = _invoke_failing(lam, "traced")
    assert error["errorType"] == "ValueError"
    assert any('File "/var/task/app.py", line 3, in handler' in frame for frame in error["stackTrace"]), error
    assert "running /var/task/app.py" in log
    for text in (json.dumps(error), log):
        assert str(host_server.data_dir) not in text


def test_local_code_comes_only_from_the_configured_folder(host_server: ServerProcess) -> None:
    lam = host_server.client("lambda")
    root = host_server.data_dir.parent / "code-root"
    for outside in ("/etc", str(host_server.data_dir.parent / "elsewhere"), f"{root}/allowed/../../elsewhere"):
        with pytest.raises(ClientError) as refused:
            lam.create_function(FunctionName="nosy", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                Code={"S3Bucket": "eventyard-local", "S3Key": outside})
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert "EVENTYARD_LAMBDA_CODE_ROOT" in refused.value.response["Error"]["Message"]
    lam.create_function(FunctionName="local", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"S3Bucket": "eventyard-local", "S3Key": str(root / "allowed")})
    error, log = _invoke_failing(lam, "local")  # the folder is the task root, shown as /var/task
    assert any("/var/task/app.py" in frame for frame in error["stackTrace"])
    assert str(root) not in json.dumps(error) + log


def _health_from(app: EventyardApp, client: str) -> dict[str, Any]:
    request = HttpRequest("GET", "/_eventyard/health", "", {"host": "localhost"}, b"")
    response = asyncio.run(_lifespan_then(app, request, {"type": "http", "client": (client, 50000)}))
    return json.loads(response.body)  # type: ignore[no-any-return]


async def _lifespan_then(app: EventyardApp, request: HttpRequest, scope: dict[str, Any]) -> Any:
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            holder.append(await app.handle(request, scope))

    holder: list[Any] = []
    await app({"type": "lifespan"}, receive, send)
    assert holder, sent
    return holder[0]


def test_health_names_the_database_only_to_this_machine(tmp_path: Path) -> None:
    settings = Settings.from_env(data_dir=tmp_path / "data")
    local = _health_from(EventyardApp(settings), "127.0.0.1")
    assert local["storage"]["path"].endswith("eventyard.sqlite3")
    remote = _health_from(EventyardApp(settings), "203.0.113.9")
    assert remote["storage"] == {"backend": "sqlite"}

"""With EVENTYARD_AUTH=sigv4 the console asks for an access key and secret, and then acts in that
key's account; without a valid session nothing is shown."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from eventyard.console.auth import ConsoleAuth
from eventyard.console.web import ConsoleRequest
from eventyard.protocol.base import HttpRequest
from eventyard.runtime.credentials import Credential, StaticCredentials
from tests.conftest import CLIENT_CONFIG, ServerProcess
from tests.console.helpers import MOUNT, get, post

KEY, SECRET, ACCOUNT = "AKIDCONSOLEUSER", "console-secret", "111122223333"


def request_with(cookie: str | None) -> ConsoleRequest:
    headers = {"cookie": f"eventyard_console={cookie}"} if cookie else {}
    return ConsoleRequest.of(HttpRequest("GET", f"{MOUNT}/", "", headers, b""))


def test_a_session_needs_the_right_secret_and_an_untampered_cookie() -> None:
    auth = ConsoleAuth("sigv4", "000000000000", StaticCredentials([Credential(KEY, SECRET, ACCOUNT)]))

    async def scenario() -> None:
        assert await auth.identify(request_with(None)) is None
        assert await auth.log_in(KEY, "wrong") is None
        assert await auth.log_in("AKIDUNKNOWN", SECRET) is None
        cookie = await auth.log_in(KEY, SECRET)
        assert cookie is not None
        identity = await auth.identify(request_with(cookie))
        assert identity is not None and identity.account_id == ACCOUNT and identity.access_key_id == KEY
        key_id, expires, signature = cookie.rsplit(".", 2)
        assert await auth.identify(request_with(f"{key_id}.{int(expires) + 1}.{signature}")) is None
        assert await auth.identify(request_with(f"{key_id}.{expires}.{'0' * 64}")) is None
        assert await auth.identify(request_with(f"{key_id}.{int(time.time()) - 1}.{signature}")) is None
        other_server = ConsoleAuth("sigv4", "000000000000", StaticCredentials([Credential(KEY, SECRET, ACCOUNT)]))
        assert await other_server.identify(request_with(cookie)) is None  # a restart ends sessions

    asyncio.run(scenario())


def test_without_authentication_the_console_acts_in_the_servers_account() -> None:
    auth = ConsoleAuth("none", "000000000000", None)
    identity = asyncio.run(auth.identify(request_with(None)))
    assert identity is not None and identity.account_id == "000000000000" and not auth.required


@pytest.fixture
def authenticated_server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "data", {"EVENTYARD_AUTH": "sigv4",
                                                "EVENTYARD_ACCESS_KEYS": f"{KEY}:{SECRET}:{ACCOUNT}"}).start()
    yield process
    process.stop()


def test_the_console_asks_for_credentials_and_shows_that_keys_account(authenticated_server: ServerProcess,
                                                                      unique: str) -> None:
    server = authenticated_server
    sqs = boto3.client("sqs", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=KEY,
                       aws_secret_access_key=SECRET, config=CLIENT_CONFIG)
    sqs.create_queue(QueueName=f"mine-{unique}")

    status, _, headers = get(server, f"{MOUNT}/sqs", follow=False)
    assert status == 303 and headers["location"].startswith(f"{MOUNT}/login?next=")
    assert get(server, f"{MOUNT}/live?src={urllib.parse.quote(MOUNT + '/overview/dlqs')}", follow=False)[0] == 401
    assert post(server, "sqs/purge", {"arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:mine-{unique}"})[0] == 401
    status, body, _ = get(server, f"{MOUNT}/login")
    assert status == 200 and 'name="secret_access_key"' in body

    status, body, _ = post(server, "login", {"access_key_id": KEY, "secret_access_key": "nope", "next": f"{MOUNT}/sqs"})
    assert status == 401 and "wrong" in body
    status, _, headers = post(server, "login", {"access_key_id": KEY, "secret_access_key": SECRET,
                                                "next": f"{MOUNT}/sqs"})
    assert status == 303 and headers["location"] == f"{MOUNT}/sqs"
    cookie = re.match(r"eventyard_console=([^;]+)", headers["set-cookie"])
    assert cookie is not None and "HttpOnly" in headers["set-cookie"] and "SameSite=Strict" in headers["set-cookie"]
    session = {"cookie": f"eventyard_console={cookie.group(1)}"}
    status, body, _ = get(server, f"{MOUNT}/sqs", session)
    assert status == 200 and f"mine-{unique}" in body and ACCOUNT in body

    status, _, headers = post(server, "login", {"access_key_id": KEY, "secret_access_key": SECRET,
                                                "next": "https://elsewhere.example/"})
    assert headers["location"] == f"{MOUNT}/"  # never sent off the console
    status, _, headers = post(server, "logout", {}, session)
    assert status == 303 and "Max-Age=0" in headers["set-cookie"]

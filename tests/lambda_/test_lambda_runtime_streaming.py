"""Response streaming in the Node.js runtime (`awslambda.streamifyResponse`) through a RESPONSE_STREAM
function URL: a streamed HTTP response's metadata sets the status, headers and cookies, the rest is the body."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.lambda_.conftest import ROLE, make_zip
from tests.lambda_.test_function_urls import call, public

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed on this host")

HTTP_STREAM = """
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201, headers: {"Content-Type": "text/html", "X-Seen": event.rawPath}, cookies: ["a=1"]});
  responseStream.write("Hello,");
  responseStream.write(" world!");
  responseStream.end();
});
"""

PLAIN_STREAM = """
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write("raw ");
  responseStream.end("bytes");
});
"""


@pytest.fixture
def streaming_function(lam: Any, unique: str) -> Any:
    created: list[str] = []

    def make(code: str) -> str:
        name = f"stream-{unique}-{len(created)}"
        lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": make_zip({"index.js": code})})
        created.append(name)
        return name

    yield make
    for name in created:
        lam.delete_function(FunctionName=name)


def test_a_streamed_http_response_sets_status_headers_and_cookies(lam: Any, streaming_function: Any) -> None:
    url = public(lam, streaming_function(HTTP_STREAM), InvokeMode="RESPONSE_STREAM")
    response = call(url, "POST", "/some/path", body=b"{'key':'value'}")
    assert response.status == 201 and response.body == b"Hello, world!"
    assert response.header("content-type") == "text/html" and response.header("x-seen") == "/some/path"
    assert response.all("set-cookie") == ["a=1"]


def test_a_plain_stream_is_sent_as_it_came(lam: Any, streaming_function: Any) -> None:
    url = public(lam, streaming_function(PLAIN_STREAM), InvokeMode="RESPONSE_STREAM")
    response = call(url)
    assert response.status == 200 and response.body == b"raw bytes"
    assert response.header("content-type") == "application/octet-stream"

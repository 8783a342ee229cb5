"""A client of a running server's own endpoints (/_eventyard/...), for the command line.

The server is found at the given endpoint, else AWS_ENDPOINT_URL, else http://localhost:4566. When AWS
credentials are configured the request is signed with them (a server with authentication on asks
for a signature on its own endpoints too).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

DEFAULT_ENDPOINT = "http://localhost:4566"


def endpoint_of(given: str | None) -> str:
    return (given or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT).rstrip("/")


def call(endpoint: str, method: str, path: str, document: Any = None) -> tuple[int, Any]:
    """(status, JSON answer) of one request; OSError when the server cannot be reached."""
    url = f"{endpoint}{path}"
    body = None if document is None else json.dumps(document).encode()
    headers = {"content-type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=_signed(method, url, body, headers))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.load(error)
        except ValueError:
            return error.code, {"error": error.reason}


def _signed(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        return headers
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    SigV4Auth(credentials.get_frozen_credentials(), "eventyard", os.environ.get("AWS_REGION", "us-east-1")
              ).add_auth(request)
    return dict(request.headers.items())

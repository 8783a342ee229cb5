"""`eventyard trace ID`: ask a running server for the path of one traced flow and print it.

ID is a trace id, a message id, an event id, an execution ARN or a Lambda request id. The server is
found at `--endpoint-url`, else AWS_ENDPOINT_URL, else http://localhost:4566. When AWS credentials
are configured the request is signed with them (a server with authentication on asks for that).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from eventyard.runtime.trace_path import as_text

DEFAULT_ENDPOINT = "http://localhost:4566"


def fetch(endpoint: str, ident: str) -> tuple[int, dict[str, Any]]:
    url = f"{endpoint.rstrip('/')}/_eventyard/trace/{quote(ident, safe=':')}"
    request = urllib.request.Request(url, headers=_signed_headers(url))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.load(error)
        except ValueError:
            return error.code, {"error": error.reason}


def _signed_headers(url: str) -> dict[str, str]:
    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        return {}
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials.get_frozen_credentials(), "eventyard", os.environ.get("AWS_REGION", "us-east-1")
              ).add_auth(request)
    return dict(request.headers.items())


def run(ident: str, endpoint: str | None, as_json: bool) -> int:
    target = endpoint or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    try:
        status, body = fetch(target, ident)
    except OSError as error:
        print(f"eventyard trace: cannot reach {target}: {error}", file=sys.stderr)
        return 2
    if status != 200:
        print(f"eventyard trace: {body.get('error') or body.get('message') or status}", file=sys.stderr)
        return 1
    print(json.dumps(body, indent=2) if as_json else as_text(body))
    return 0

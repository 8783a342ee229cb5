"""API destinations: real HTTP calls with the connection's authorization and a per-destination rate
limit. Runs urllib in a thread (no extra dependency); AWS's 5-second invocation timeout applies."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT = 5.0  # AWS: API destination requests time out after 5 seconds
# AWS retries API destination calls that fail with these statuses (and all 5xx); others go to the DLQ.
RETRYABLE_STATUSES = {401, 407, 409, 429}


@dataclass
class HttpOutcome:
    status: int | None  # None: no response (connection failure, timeout)
    reason: str
    body: bytes = b""  # what the endpoint answered (a pipe's API destination enrichment reads it)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUSES or self.status >= 500


def _request(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int | None, str, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.reason, response.read()
    except urllib.error.HTTPError as error:
        return error.code, str(error.reason), error.read() if error.fp else b""
    except (urllib.error.URLError, OSError) as error:
        return None, str(getattr(error, "reason", error)), b""


def _with_query(url: str, params: dict[str, str]) -> str:
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)


class TokenBuckets:
    """InvocationRateLimitPerSecond per destination: how long until the next call may go."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # arn -> (tokens, last refill)

    def wait_time(self, arn: str, rate: float, now: float) -> float:
        tokens, last = self._buckets.get(arn, (rate, now))
        tokens = min(rate, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[arn] = (tokens - 1, now)
            return 0.0
        self._buckets[arn] = (tokens, now)
        return (1 - tokens) / rate


class OAuthTokens:
    """Client-credentials access tokens, cached per connection until they expire."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    async def token(self, connection: dict[str, Any], now: float, refresh: bool = False) -> str | None:
        cached = self._tokens.get(connection["ConnectionArn"])
        if cached and cached[1] > now and not refresh:
            return cached[0]
        oauth = connection["_auth"]["OAuthParameters"]
        client = oauth["ClientParameters"]
        http = oauth.get("OAuthHttpParameters") or {}
        headers = {p["Key"]: p["Value"] for p in http.get("HeaderParameters", [])}
        creds = f"{client['ClientID']}:{client['ClientSecret']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(creds).decode()
        form = {"grant_type": "client_credentials"}
        form.update({p["Key"]: p["Value"] for p in http.get("BodyParameters", [])})
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = _with_query(oauth["AuthorizationEndpoint"],
                          {p["Key"]: p["Value"] for p in http.get("QueryStringParameters", [])})
        status, _, body = await asyncio.to_thread(
            _request, str(oauth.get("HttpMethod", "POST")).upper(), url, urllib.parse.urlencode(form).encode(), headers)
        if status is None or not 200 <= status < 300:
            return None
        try:
            answer = json.loads(body)
            token = str(answer["access_token"])
        except (ValueError, KeyError, TypeError):
            return None
        self._tokens[connection["ConnectionArn"]] = (token, now + float(answer.get("expires_in", 3600)) - 30)
        return token


async def invoke(destination: dict[str, Any], connection: dict[str, Any], target: dict[str, Any], body: str,
                 oauth: OAuthTokens, now: float) -> HttpOutcome:
    auth = connection["_auth"]
    invocation = auth.get("InvocationHttpParameters") or {}
    http = target.get("HttpParameters") or {}
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Amazon/EventBridge/ApiDestinations"}
    headers.update({p["Key"]: p["Value"] for p in invocation.get("HeaderParameters", [])})
    headers.update(http.get("HeaderParameters") or {})
    query = {p["Key"]: p["Value"] for p in invocation.get("QueryStringParameters", [])}
    query.update(http.get("QueryStringParameters") or {})
    kind = connection["AuthorizationType"]
    if kind == "API_KEY":
        headers[auth["ApiKeyAuthParameters"]["ApiKeyName"]] = auth["ApiKeyAuthParameters"]["ApiKeyValue"]
    elif kind == "BASIC":
        basic = auth["BasicAuthParameters"]
        headers["Authorization"] = "Basic " + base64.b64encode(
            f"{basic['Username']}:{basic['Password']}".encode()).decode()
    elif kind == "OAUTH_CLIENT_CREDENTIALS":
        token = await oauth.token(connection, now)
        if token is None:
            return HttpOutcome(401, "Unable to obtain an OAuth access token")
        headers["Authorization"] = f"Bearer {token}"
    url = destination["InvocationEndpoint"]
    for value in http.get("PathParameterValues") or []:
        url = url.replace("*", urllib.parse.quote(value, safe=""), 1)
    method = destination["HttpMethod"]
    data = body.encode() if method not in ("GET", "HEAD") else None
    status, reason, answer = await asyncio.to_thread(_request, method, _with_query(url, query), data, headers)
    return HttpOutcome(status, reason, answer)

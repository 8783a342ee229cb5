"""Requests to a function URL (`<url-id>.lambda-url.<region>.<host>`), as Lambda serves them: the
request becomes a payload format 2.0 event, the function's answer becomes the HTTP response.

- An unknown URL id answers 403 `{"Message":null}`; a public (NONE) URL whose policy does not let
  anyone call `lambda:InvokeFunctionUrl`, or an AWS_IAM URL called without a SigV4 signature, answers
  403 with AWS's "Forbidden" text; both with `x-amzn-ErrorType: AccessDeniedException`.
- A function error answers 502 `Internal Server Error`.
- An answer that is an object with `statusCode` is an HTTP response (`headers`, `cookies` as
  Set-Cookie lines, `body`, `isBase64Encoded`); any other JSON is the body itself with status 200 and
  `application/json`: a string as its text, anything else as compact JSON (recorded against AWS).
- RESPONSE_STREAM URLs send the function's answer as it came (what AWS sends for a handler that
  does not stream), or the HTTP response a streaming handler described (`streamed_response`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from eventyard.protocol.base import HttpRequest, HttpResponse
from eventyard.protocol.errors import AwsError
from eventyard.runtime import tracing
from eventyard.runtime.ids import new_uuid
from eventyard.services.lambda_ import function_urls, permissions
from eventyard.storage import Connection, Row

HOST = re.compile(r"^(?P<url_id>[a-z0-9-]+)\.lambda-url\.(?P<region>[a-z0-9-]+)\.", re.IGNORECASE)
FORBIDDEN = ("Forbidden. For troubleshooting Function URL authorization issues, see: "
             "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")
# Request bodies of these types reach the function as text; every other body (no Content-Type,
# form-urlencoded and multipart included) is base64 with isBase64Encoded: AWS's split for payload 2.0.
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"  # a streamed HTTP response
PRELUDE_END = b"\x00" * 8  # ends a streamed HTTP response's metadata
DROPPED_HEADERS = {"connection", "keep-alive", "proxy-connection", "te", "upgrade", "cookie", "x-amzn-trace-id"}


def _forbidden(message: str | None) -> HttpResponse:
    return HttpResponse(403, json.dumps({"Message": message}, separators=(",", ":")).encode(),
                        {"content-type": "application/json", "x-amzn-errortype": "AccessDeniedException"})


def is_text(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return bool(media) and media.startswith(TEXT_TYPES)


def joined_headers(scope: dict[str, Any]) -> dict[str, str]:
    """The request's headers with lower-case names, repeated ones joined by commas (as in the event)."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or []:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


def query_parameters(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def request_event(request: HttpRequest, scope: dict[str, Any], row: Row, request_id: str, trace: str,
                  now: float) -> dict[str, Any]:
    """The payload format 2.0 event for one request: `rawPath` as sent, `requestContext.http.path`
    percent-decoded (recorded)."""
    headers = joined_headers(scope)
    host = headers.get("host", "")
    client = (scope.get("client") or ("127.0.0.1", 0))[0]
    server_port = (scope.get("server") or ("", 80))[1]
    event_headers = {k: v for k, v in headers.items() if k not in DROPPED_HEADERS}
    event_headers.update({"x-amzn-trace-id": trace, "x-forwarded-for": client,
                          "x-forwarded-port": str(server_port), "x-forwarded-proto": scope.get("scheme", "http")})
    raw_path = request.raw_path or request.path
    moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    context: dict[str, Any] = {
        "accountId": "anonymous", "apiId": row["url_id"], "domainName": host, "domainPrefix": row["url_id"],
        "http": {"method": request.method, "path": request.path, "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
                 "sourceIp": client, "userAgent": headers.get("user-agent", "")},
        "requestId": request_id, "routeKey": "$default", "stage": "$default",
        "time": moment.strftime("%d/") + _MONTHS[moment.month - 1] + moment.strftime("/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if row["auth_type"] == "AWS_IAM":
        context["accountId"] = row["account_id"]
        context["authorizer"] = {"iam": _caller(request, row["account_id"])}
    event: dict[str, Any] = {"version": "2.0", "routeKey": "$default", "rawPath": raw_path,
                             "rawQueryString": request.query_string}
    if headers.get("cookie"):
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";") if c.strip()]
    event["headers"] = event_headers
    if request.query_string:
        event["queryStringParameters"] = query_parameters(request.query_string)
    event["requestContext"] = context
    text = is_text(headers.get("content-type"))
    if request.body:
        event["body"] = request.body.decode("utf-8", "replace") if text else base64.b64encode(request.body).decode()
    event["isBase64Encoded"] = bool(request.body) and not text
    return event


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _caller(request: HttpRequest, account_id: str) -> dict[str, Any]:
    """The signer an AWS_IAM URL saw: the access key from the credential scope."""
    match = re.search(r"Credential=([^/,\s]+)/", request.headers.get("authorization", ""))
    key = match.group(1) if match else ""
    return {"accessKey": key, "accountId": account_id, "callerId": key, "cognitoIdentity": None,
            "principalOrgId": None, "userArn": f"arn:aws:iam::{account_id}:root", "userId": account_id}


def http_response(payload: bytes, request_id: str) -> HttpResponse:
    """The function's answer as the HTTP response the client sees."""
    headers = {"content-type": "application/json", "x-amzn-requestid": request_id}
    try:
        answer = json.loads(payload) if payload else None
    except ValueError:
        return HttpResponse(200, payload, headers)
    if not (isinstance(answer, dict) and "statusCode" in answer):
        # AWS's docs show a string answer sent with its quotes; every recording shows its bare text.
        return HttpResponse(200, _body_text(answer).encode(), headers)
    try:
        status = int(answer["statusCode"])
        body = _body_bytes(answer)
    except (TypeError, ValueError, binascii.Error):
        return HttpResponse(502, b"Internal Server Error", headers)
    for name, value in (answer.get("headers") or {}).items():
        headers[str(name).lower()] = value if isinstance(value, str) else json.dumps(value)
    headers["x-amzn-requestid"] = request_id
    cookies = [("set-cookie", str(c)) for c in answer.get("cookies") or []]
    return HttpResponse(status, body, headers, header_list=cookies)


def _body_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _body_bytes(answer: dict[str, Any]) -> bytes:
    body = answer.get("body")
    if body is None:
        return b""
    if answer.get("isBase64Encoded") and isinstance(body, str):
        return base64.b64decode(body, validate=True)
    return _body_text(body).encode()


def streamed_response(payload: bytes, content_type: str | None, request_id: str) -> HttpResponse:
    """A RESPONSE_STREAM URL's answer. A handler that streams an HTTP response (Node's
    `awslambda.HttpResponseStream.from`) sends its metadata first, as JSON (statusCode, headers,
    cookies), then eight NUL bytes, then the body; any other answer is sent as it came."""
    if content_type != HTTP_INTEGRATION or PRELUDE_END not in payload:
        return HttpResponse(200, payload, {"content-type": content_type or "application/octet-stream",
                                           "x-amzn-requestid": request_id})
    prelude, body = payload.split(PRELUDE_END, 1)
    try:
        metadata = json.loads(prelude) if prelude.strip() else {}
        metadata = metadata if isinstance(metadata, dict) else {}
        status = int(metadata.get("statusCode", 200))
    except (TypeError, ValueError):
        return HttpResponse(502, b"Internal Server Error", {"content-type": "application/json",
                                                            "x-amzn-requestid": request_id})
    headers = {"content-type": "application/octet-stream"}
    for name, value in (metadata.get("headers") or {}).items():
        headers[str(name).lower()] = str(value)
    headers["x-amzn-requestid"] = request_id
    cookies = [("set-cookie", str(c)) for c in metadata.get("cookies") or []]
    return HttpResponse(status, body, headers, header_list=cookies)


class UrlInvocations:
    """Serves the function URL host names for the Lambda provider (see `Service.host_handler`)."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def matches(self, host: str) -> bool:
        return ".lambda-url." in host and HOST.match(host) is not None

    async def serve(self, request: HttpRequest, scope: dict[str, Any], signed: bool) -> HttpResponse:
        match = HOST.match(request.headers.get("host", ""))
        assert match is not None
        url_id, region = match.group("url_id").lower(), match.group("region").lower()
        row, allowed, retired = await self.provider.platform.db.read(lambda conn: self._lookup(conn, url_id))
        if row is None or row["region"] != region:
            return _forbidden(FORBIDDEN if retired else None)
        if not (allowed if row["auth_type"] == "NONE" else signed):
            return _forbidden(FORBIDDEN)
        now = self.provider.platform.clock.now()
        request_id = new_uuid()
        incoming = tracing.parse(request.headers.get("x-amzn-trace-id"))
        trace = str(incoming or tracing.TraceHeader(tracing.new_root(now)))
        event = request_event(request, scope, row, request_id, trace, now)
        try:
            result = await self.provider.run_invocation(
                row["region"], row["account_id"], row["name"], row["qualifier"] or None,
                json.dumps(event).encode(), trace, request_id)
        except AwsError as error:
            return HttpResponse(error.status, json.dumps({"Message": error.message}).encode(),
                                {"content-type": "application/json", "x-amzn-errortype": error.code,
                                 "x-amzn-requestid": request_id})
        if result.function_error:
            return HttpResponse(502, b"Internal Server Error",
                                {"content-type": "application/json", "x-amzn-requestid": request_id})
        if row["invoke_mode"] == "RESPONSE_STREAM":
            return streamed_response(result.payload, result.content_type, request_id)
        return http_response(result.payload, request_id)

    @staticmethod
    def _lookup(conn: Connection, url_id: str) -> tuple[Row | None, bool, bool]:
        """The URL's configuration, whether its policy lets anyone call it, and whether it was deleted."""
        row = function_urls.by_url_id(conn, url_id)
        if row is None:
            return None, False, function_urls.is_retired(conn, url_id)
        return row, permissions.allows_public_url(conn, row["account_id"], row["region"], row["name"],
                                                  row["qualifier"], row["auth_type"]), False

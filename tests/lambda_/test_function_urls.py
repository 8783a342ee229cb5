"""Function URLs: the configuration API through boto3 (AWS's shapes and wording, recorded), and real
HTTP requests to `http://<url-id>.lambda-url.<region>.localhost:<port>/` (payload format 2.0 in, the
function's answer out). The requests go to 127.0.0.1 with the URL's Host, as a client that resolves
`*.localhost` to loopback (RFC 6761) sends them."""

from __future__ import annotations

import base64
import http.client
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.lambda_.conftest import eventually, log_messages
from tests.signing import signed_headers

ECHO = ("import json\n"
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'body': json.dumps(event)}\n")
ANSWER_FROM_BODY = ("import json\n"  # the request body is the function's answer (AWS's response format tests)
                    "def handler(event, context):\n"
                    "    return json.loads(event['body'])\n")
QUALIFIER_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"


class Response:
    def __init__(self, raw: http.client.HTTPResponse) -> None:
        self.status = raw.status
        self.headers = raw.getheaders()
        self.body = raw.read()

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def call(url: str, method: str = "GET", path: str = "", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> Response:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(method, "/" + path.lstrip("/"), body=body, headers={"Host": parts.netloc, **(headers or {})})
        return Response(connection.getresponse())
    finally:
        connection.close()


def public(lam: Any, name: str, qualifier: str | None = None, **kwargs: Any) -> str:
    """A NONE-auth URL with the permission that lets anyone call it; its URL."""
    extra = {"Qualifier": qualifier} if qualifier else {}
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", **extra, **kwargs)["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE", **extra)
    return str(url)


def error_of(call_: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call_()
    return {"code": caught.value.response["Error"]["Code"], "message": caught.value.response["Error"]["Message"],
            "status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"]}


# -- the configuration API --------------------------------------------------------------------------
def test_create_get_update_list_and_delete(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    created = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"http://[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:\d+/", created["FunctionUrl"])
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert "InvokeMode" not in created and "LastModifiedTime" not in created  # as AWS answers a create without one
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", created["CreationTime"])

    got = lam.get_function_url_config(FunctionName=name)
    assert got["InvokeMode"] == "BUFFERED" and got["FunctionUrl"] == created["FunctionUrl"]
    assert got["LastModifiedTime"] == got["CreationTime"]

    updated = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM",
                                             Cors={"AllowOrigins": ["https://example.com"]})
    assert updated["AuthType"] == "AWS_IAM" and updated["Cors"] == {"AllowOrigins": ["https://example.com"]}
    assert "InvokeMode" not in updated  # never set: Update does not name it either
    lam.update_function_url_config(FunctionName=name, InvokeMode="RESPONSE_STREAM")
    assert lam.update_function_url_config(FunctionName=name)["InvokeMode"] == "RESPONSE_STREAM"  # kept

    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [created["FunctionUrl"]]
    lam.delete_function_url_config(FunctionName=name)
    assert error_of(lambda: lam.get_function_url_config(FunctionName=name)) == {
        "code": "ResourceNotFoundException", "message": "The resource you requested does not exist.", "status": 404}
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_errors_in_aws_words(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert error_of(lambda: lam.create_function_url_config(FunctionName=name, AuthType="NONE")) == {
        "code": "ResourceConflictException", "status": 409,
        "message": f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
                   "FunctionUrlConfig exists for this Lambda function"}
    missing_function = {"code": "ResourceNotFoundException", "message": "Function does not exist", "status": 404}
    assert error_of(lambda: lam.create_function_url_config(FunctionName="nope", AuthType="NONE")) == missing_function
    assert error_of(lambda: lam.create_function_url_config(FunctionName=name, AuthType="NONE",
                                                           Qualifier="no-alias")) == missing_function
    assert error_of(lambda: lam.update_function_url_config(FunctionName="nope")) == missing_function
    assert error_of(lambda: lam.list_function_url_configs(FunctionName="nope")) == missing_function
    missing = {"code": "ResourceNotFoundException", "message": "The resource you requested does not exist.",
               "status": 404}
    assert error_of(lambda: lam.get_function_url_config(FunctionName="nope")) == missing
    assert error_of(lambda: lam.delete_function_url_config(FunctionName=name, Qualifier="no-alias")) == missing
    for qualifier in ("1", "$LATEST"):  # a URL belongs to the function or an alias, never a version
        assert error_of(lambda: lam.get_function_url_config(FunctionName=name, Qualifier=qualifier)) == {
            "code": "ValidationException", "status": 400,
            "message": f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy "
                       f"constraint: Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"}
    assert error_of(lambda: lam.create_function_url_config(FunctionName=name, AuthType="NONE",
                                                           InvokeMode="UNKNOWN"))["message"] == (
        "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy constraint: Member must "
        "satisfy enum value set: [RESPONSE_STREAM, BUFFERED]")  # Lambda's order, not the model's
    assert error_of(lambda: lam.get_function_url_config(FunctionName=f"{name}:a", Qualifier="b"))["code"] == (
        "InvalidParameterValueException")


def test_an_alias_has_its_own_url_and_listing_pages(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    own = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    aliased = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert aliased["FunctionArn"].endswith(":live") and aliased["FunctionUrl"] != own
    first = lam.list_function_url_configs(FunctionName=name, MaxItems=1)
    second = lam.list_function_url_configs(FunctionName=name, MaxItems=1, Marker=first["NextMarker"])
    urls = {first["FunctionUrlConfigs"][0]["FunctionUrl"], second["FunctionUrlConfigs"][0]["FunctionUrl"]}
    assert urls == {own, aliased["FunctionUrl"]} and "NextMarker" not in second
    lam.delete_function_url_config(FunctionName=name)  # the function's own only
    assert lam.get_function_url_config(FunctionName=name, Qualifier="live")["FunctionUrl"] == aliased["FunctionUrl"]


def test_add_permission_writes_the_url_statement(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    statement = json.loads(lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl",
                                              Principal="*", FunctionUrlAuthType="NONE", SourceAccount="000000000000",
                                              PrincipalOrgID="o-1234567890")["Statement"])
    assert statement == {
        "Sid": "url", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
        "Resource": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        "Condition": {"StringEquals": {"AWS:SourceAccount": "000000000000", "lambda:FunctionUrlAuthType": "NONE",
                                       "aws:PrincipalOrgID": "o-1234567890"}}}


# -- calling a URL --------------------------------------------------------------------------------------
def test_the_event_is_payload_format_2(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    url = public(lam, name)
    answer = call(url, "POST", "/a%2Fb/c?x=1&x=2&y=", b'{"k": 1}',
                  {"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2", "User-Agent": "tests/1",
                   "X-Custom": "first"})
    assert answer.status == 200
    event = json.loads(answer.body)
    host = urlsplit(url).netloc
    url_id = host.split(".")[0]
    assert {k: event[k] for k in ("version", "routeKey", "rawPath", "rawQueryString", "cookies", "body",
                                  "isBase64Encoded")} == {
        "version": "2.0", "routeKey": "$default", "rawPath": "/a%2Fb/c", "rawQueryString": "x=1&x=2&y=",
        "cookies": ["c1=v1", "c2=v2"], "body": '{"k": 1}', "isBase64Encoded": False}
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    headers = event["headers"]
    assert headers["content-type"] == "application/json" and headers["x-custom"] == "first"
    assert headers["host"] == host and "cookie" not in headers and "connection" not in headers
    assert headers["x-forwarded-proto"] == "http" and headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    context = event["requestContext"]
    assert context["accountId"] == "anonymous" and context["apiId"] == url_id == context["domainPrefix"]
    assert context["domainName"] == host and context["routeKey"] == context["stage"] == "$default"
    assert context["http"] == {"method": "POST", "path": "/a/b/c", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                               "userAgent": "tests/1"}
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["time"])
    assert context["requestId"] == answer.header("x-amzn-RequestId")  # the invocation's own request id


def test_binary_bodies_arrive_in_base64(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    url = public(lam, name)
    form = b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--b--\r\n"
    for content_type, body in (("multipart/form-data; boundary=b", form), ("application/octet-stream", b"\x00\xff"),
                               ("application/x-www-form-urlencoded", b"a=1")):
        event = json.loads(call(url, "PUT", "/", body, {"Content-Type": content_type}).body)
        assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == body
    event = json.loads(call(url, "GET", "/").body)
    assert "body" not in event and event["isBase64Encoded"] is False and "queryStringParameters" not in event


@pytest.mark.parametrize("returned, body", [
    ('{"hello": "world"}', '{"hello":"world"}'),  # any JSON but an HTTP response is the body, compact
    ('["hello", 3, true]', '["hello",3,true]'),
    ('"hello"', "hello"),  # a string is its own text (recorded; AWS's docs show it quoted)
    ("3.1", "3.1"),
    ('{"statusCode": 200, "body": "{\\"hello\\": \\"world\\"}"}', '{"hello": "world"}'),
])
def test_answers_become_the_response_body(lam: Any, make_function: Any, returned: str, body: str) -> None:
    url = public(lam, make_function(ANSWER_FROM_BODY))
    answer = call(url, "POST", "/", returned.encode(), {"Content-Type": "application/json"})
    assert (answer.status, answer.body.decode(), answer.header("content-type")) == (200, body, "application/json")


def test_an_http_response_sets_status_headers_and_cookies(lam: Any, make_function: Any) -> None:
    url = public(lam, make_function(ANSWER_FROM_BODY))
    response = {"statusCode": "418", "headers": {"Content-Type": "text/plain", "My-Header": "mine"},
                "cookies": ["a=1; Max-Age=60", "b=2"], "body": base64.b64encode(b"\x00teapot").decode(),
                "isBase64Encoded": True}
    answer = call(url, "POST", "/", json.dumps(response).encode(), {"Content-Type": "application/json"})
    assert answer.status == 418 and answer.body == b"\x00teapot"
    assert answer.header("content-type") == "text/plain" and answer.header("my-header") == "mine"
    assert answer.all("set-cookie") == ["a=1; Max-Age=60", "b=2"]


def test_a_function_error_is_a_502(lam: Any, make_function: Any) -> None:
    url = public(lam, make_function("def handler(event, context):\n    raise ValueError('boom')\n"))
    answer = call(url, "POST", "/", b"{}")
    assert (answer.status, answer.body) == (502, b"Internal Server Error")


def test_who_may_call(lam: Any, make_function: Any, server: Any) -> None:
    name = make_function(ECHO)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    denied = call(url)  # no statement lets anyone call it yet
    forbidden = {"Message": "Forbidden. For troubleshooting Function URL authorization issues, see: "
                            "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}
    assert denied.status == 403 and json.loads(denied.body) == forbidden
    assert denied.header("x-amzn-ErrorType") == "AccessDeniedException"
    lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    assert call(url).status == 200

    unknown = call(url.replace(urlsplit(url).netloc.split(".")[0], "0123456789abcdefghijklmnopqrstuv"))
    assert (unknown.status, unknown.body, unknown.header("content-type")) == (403, b'{"Message":null}',
                                                                               "application/json")
    lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert call(url).status == 403  # unsigned
    signed = signed_headers("GET", url, None, {}, "lambda")
    answer = call(url, headers=signed)
    assert answer.status == 200 and "iam" in json.loads(answer.body)["requestContext"]["authorizer"]


def test_a_deleted_alias_takes_its_url_along(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    url = public(lam, name, qualifier="live")
    assert call(url).status == 200
    lam.delete_alias(FunctionName=name, Name="live")
    assert error_of(lambda: lam.get_function_url_config(FunctionName=name, Qualifier="live"))["status"] == 404
    gone = call(url)  # a URL that was: "Forbidden", where one never given out has no message (recorded)
    assert gone.status == 403 and json.loads(gone.body)["Message"].startswith("Forbidden.")


def test_the_request_id_header_is_the_invocations(lam: Any, make_function: Any, server: Any) -> None:
    name = make_function("def handler(event, context):\n    return context.aws_request_id\n")
    answer = call(public(lam, name))
    request_id = answer.header("x-amzn-RequestId")
    assert answer.body.decode() == request_id
    logs = server.client("logs")

    def ended() -> bool:
        return any(m.startswith(f"END RequestId: {request_id}") for m in log_messages(logs, name))
    eventually(ended)

"""Malformed bytes, bodies, paths, forms and headers, for every operation of every protocol the server
speaks, answer an AWS error (4xx), never a 5xx, a hang or a dropped connection."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from botocore.model import OperationModel, Shape
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ServerProcess
from tests.fuzz.conftest import FUZZ_SETTINGS, FuzzTarget, operation_cases
from tests.fuzz.wire import RawRequest, check_answer, send, serialized, sign, signing_name

DEEP = 10_000
FIXED_BODIES = [
    b"", b"null", b"[]", b"[1, 2]", b"-1", b"NaN", b'"text"', b"true", b"{", b"}", b"{}}", b'{"a":}',
    b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP, b"[" * 101 + b"]" * 101,
    b'{"a":' * 99 + b"1" + b"}" * 99, b"1e999", b'{"x": 1e999999}', b"\xff\xfe{\x00}\x00", b"\xef\xbb\xbf{}",
    b'{"\\ud800": "\\udfff"}', b"\x00" * 64, b'{"a": "\\u0000"}', b"{" + b'"k":1,' * 5000 + b'"k":2}',
]
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.sampled_from(
    ["\ud800", "x" * 1000, "[" * 50])


def json_values(keys: list[str]) -> st.SearchStrategy[Any]:
    """JSON documents whose keys are mostly the operation's own member names, with any values."""
    key = st.sampled_from(keys) | st.text(max_size=8) if keys else st.text(max_size=8)
    return st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(key, inner, max_size=4),
                        max_leaves=12)


def member_names(shape: Shape | None, depth: int = 0) -> list[str]:
    if shape is None or depth > 3:
        return []
    names: list[str] = []
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            names.append(name)
            names.extend(member_names(member, depth + 1))
    elif shape.type_name == "list":
        names.extend(member_names(shape.member, depth + 1))
    elif shape.type_name == "map":
        names.extend(member_names(shape.value, depth + 1))
    return sorted(set(names))


def bodies(operation: OperationModel) -> st.SearchStrategy[bytes]:
    names = member_names(operation.input_shape)
    documents = json_values(names).map(lambda v: json.dumps(v).encode())
    return st.one_of(st.sampled_from(FIXED_BODIES), st.binary(max_size=300), documents,
                     documents.flatmap(lambda b: st.integers(0, max(len(b) - 1, 0)).map(lambda n: b[:n])))


# -- JSON, CBOR and rest-json bodies ------------------------------------------------------------------
@pytest.mark.parametrize("service,protocol,operation", [c for c in operation_cases() if c[1] != "query"])
def test_malformed_bodies_earn_aws_errors(fuzz_target: FuzzTarget, service: str, protocol: str,
                                          operation: str) -> None:
    model = fuzz_target.model(service, protocol)
    operation_model = model.operation_model(operation)
    template = _template(model, protocol, operation_model)

    @FUZZ_SETTINGS
    @given(body=bodies(operation_model), path=_paths(operation_model, protocol))
    def run(body: bytes, path: str) -> None:
        request = RawRequest(template.method, path or template.path, dict(template.headers), body)
        request = sign(request, fuzz_target.server.url, signing_name(model))
        check_answer(send(fuzz_target.server.port, request, operation_model.has_event_stream_output), request)

    run()


def _template(model: Any, protocol: str, operation: OperationModel) -> RawRequest:
    """A request of the operation with minimal content: its method, path and protocol headers."""
    shape = operation.input_shape
    labels = {n: "x" for n, m in (shape.members.items() if shape else []) if m.serialization.get("location") == "uri"}
    required = {n: _placeholder(shape.members[n]) for n in (shape.required_members if shape else [])}
    return serialized(model, protocol, operation, {**required, **labels})


def _placeholder(shape: Shape) -> Any:
    return {"string": "x", "integer": 1, "long": 1, "boolean": True, "blob": b"x", "list": [], "map": {},
            "structure": {}, "double": 1.0, "float": 1.0, "timestamp": 0}.get(shape.type_name, "x")


def _paths(operation: OperationModel, protocol: str) -> st.SearchStrategy[str]:
    """rest-json: the operation's URI with its labels replaced by awkward text and a random query."""
    if protocol != "rest-json":
        return st.just("")
    uri = operation.http["requestUri"]
    segment = st.text(min_size=1, max_size=30).map(lambda t: quote(t, safe="")) | st.sampled_from(
        ["%00", "%2F", "..", "%", "%zz", "%ED%A0%80", "a" * 2000, "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000"
         "%3Afunction%3Afuzz-fn"])
    query = st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3).map(urlencode)

    def fill(labels: list[str], extra: str) -> str:
        parts = iter(labels)
        path = re.sub(r"\{[^}]+\}", lambda _: next(parts), uri)
        return path + (("&" if "?" in path else "?") + extra if extra else "")

    count = len(re.findall(r"\{[^}]+\}", uri))
    return st.builds(fill, st.lists(segment, min_size=count, max_size=count), query)


# -- query forms --------------------------------------------------------------------------------------
@pytest.mark.parametrize("service,protocol,operation", [c for c in operation_cases() if c[1] == "query"])
def test_malformed_forms_earn_aws_errors(fuzz_target: FuzzTarget, service: str, protocol: str, operation: str) -> None:
    model = fuzz_target.model(service, protocol)
    keys = _form_keys(model.operation_model(operation).input_shape)
    value = st.text(max_size=30) | st.sampled_from(["", "%", "%ZZ", "\ud800", "-1", "1e999", "NaN", "true", "x" * 5000])
    form = st.dictionaries(st.sampled_from(keys) | st.text(max_size=12) if keys else st.text(max_size=12), value,
                           max_size=6)

    @FUZZ_SETTINGS
    @given(fields=form, raw=st.sampled_from([b"", b"%", b"a=%ED%A0%80", b"&&==&", b"Action", b"\xff\xfe"]) | st.binary(
        max_size=100))
    def run(fields: dict[str, str], raw: bytes) -> None:
        body = urlencode({"Action": operation, "Version": model.api_version, **fields}, errors="surrogatepass").encode()
        for payload in (body, body + b"&" + raw):
            request = sign(RawRequest("POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}, payload),
                           fuzz_target.server.url, signing_name(model))
            check_answer(send(fuzz_target.server.port, request), request)

    run()


def _form_keys(shape: Shape | None) -> list[str]:
    """Form keys the operation's members travel under, with list and map indexes (valid and not)."""
    keys: list[str] = []

    def walk(node: Shape, prefix: str, depth: int) -> None:
        if depth > 3:
            return
        if node.type_name == "structure":
            for name, member in node.members.items():
                walk(member, f"{prefix}.{member.serialization.get('name', name)}".lstrip("."), depth + 1)
        elif node.type_name == "list":
            for index in ("1", "0", "999999999999", "x"):
                walk(node.member, f"{prefix}.member.{index}", depth + 1)
                walk(node.member, f"{prefix}.{index}", depth + 1)
        elif node.type_name == "map":
            for index in ("1", "0", "-1"):
                keys.extend([f"{prefix}.entry.{index}.key", f"{prefix}.entry.{index}.value", f"{prefix}.{index}.Name",
                             f"{prefix}.{index}.Value"])
        else:
            keys.append(prefix)

    if shape is not None:
        walk(shape, "", 0)
    return sorted(set(keys))


# -- headers ------------------------------------------------------------------------------------------
HEADER_NAMES = ["Content-Type", "Content-Encoding", "X-Amz-Content-SHA256", "X-Amz-Target", "X-Amz-Date",
                "Authorization", "X-Amz-Security-Token", "X-Amzn-Query-Mode", "Accept", "Smithy-Protocol",
                "X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context", "Content-MD5",
                "X-Amz-Decoded-Content-Length", "X-Amzn-Trace-Id", "Origin", "Sec-Fetch-Site", "X-Amz-Trailer"]
HEADER_VALUES = ["", " ", "application/json", "application/x-amz-json-1.0", "text/plain", "application/cbor",
                 "aws-chunked", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                 "UNSIGNED-PAYLOAD", "0" * 64, "AmazonSQS.", ".", "AmazonSQS.ListQueues.Extra", "20260101T000000Z",
                 "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host, "
                 "Signature=" + "0" * 64, "x" * 8000, "true", "rpc-v2-cbor", "Root=1-abc", "null", "e30="]
PROTOCOL_SAMPLES = [("sqs", "json", "ListQueues"), ("sqs", "query", "ListQueues"), ("sns", "query", "ListTopics"),
                    ("kinesis", "json", "ListStreams"), ("lambda", "rest-json", "ListFunctions"),
                    ("lambda", "rest-json", "Invoke"), ("scheduler", "rest-json", "ListSchedules")]


@pytest.mark.parametrize("service,protocol,operation", PROTOCOL_SAMPLES)
def test_malformed_headers_earn_aws_errors(fuzz_target: FuzzTarget, service: str, protocol: str,
                                           operation: str) -> None:
    model = fuzz_target.model(service, protocol)
    template = _template(model, protocol, model.operation_model(operation))
    headers = st.dictionaries(st.sampled_from(HEADER_NAMES),
                              st.sampled_from(HEADER_VALUES) | st.text(st.characters(min_codepoint=32, max_codepoint=255),
                                                                       max_size=40), max_size=4)

    @FUZZ_SETTINGS
    @given(extra=headers, signed_after=st.booleans(), body=st.sampled_from(FIXED_BODIES[:12]) | st.binary(max_size=80))
    def run(extra: dict[str, str], signed_after: bool, body: bytes) -> None:
        request = RawRequest(template.method, template.path, dict(template.headers), body or template.body)
        if signed_after:
            request.headers.update(extra)
            request = sign(request, fuzz_target.server.url, signing_name(model))
        else:
            request = sign(request, fuzz_target.server.url, signing_name(model))
            request.headers.update(extra)
        check_answer(send(fuzz_target.server.port, request), request)

    run()


# -- authentication on --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def auth_fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("fuzz-auth") / "data", env={
        "EVENTYARD_AUTH": "sigv4", "EVENTYARD_ACCESS_KEYS": "AKIDEXAMPLE:secret:111111111111"}).start()
    yield process
    process.stop()


@pytest.mark.parametrize("service,protocol,operation", PROTOCOL_SAMPLES)
def test_malformed_signatures_and_chunked_bodies_earn_aws_errors(fuzz_target: FuzzTarget, auth_fuzz_server: ServerProcess,
                                                                  service: str, protocol: str, operation: str) -> None:
    model = fuzz_target.model(service, protocol)
    template = _template(model, protocol, model.operation_model(operation))
    chunked = st.sampled_from([b"0\r\n\r\n", b"5;chunk-signature=zz\r\nhello\r\n0;chunk-signature=\r\n\r\n",
                               b"ffffffffffffffff\r\n", b"1\r\n", b"x\r\n\r\n", b"0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
                               b"0;chunk-signature=" + b"0" * 64 + b"\r\nx-amz-trailer-signature:00\r\n\r\n"])
    authorization = st.sampled_from(HEADER_VALUES[15:18]) | st.builds(
        lambda key, date, scope, names, sig: f"AWS4-HMAC-SHA256 Credential={key}/{date}/{scope}/aws4_request, "
                                             f"SignedHeaders={names}, Signature={sig}",
        st.sampled_from(["AKIDEXAMPLE", "", "x" * 300]), st.sampled_from(["20260101", "2026", "99999999", ""]),
        st.sampled_from(["us-east-1/sqs", "us-east-1", "/", "a/b/c"]),
        st.sampled_from(["host", "host;x-amz-date", "", ";;", "host;x-nope"]), st.text("0123456789abcdef", max_size=64))

    @FUZZ_SETTINGS
    @given(body=chunked | st.binary(max_size=60), auth=authorization, date=st.sampled_from(
        ["20260101T000000Z", "garbage", "", "99999999T999999Z"]), streaming=st.sampled_from(HEADER_VALUES[6:11]))
    def run(body: bytes, auth: str, date: str, streaming: str) -> None:
        signed = sign(RawRequest(template.method, template.path, {
            **template.headers, "X-Amz-Content-SHA256": streaming, "Content-Encoding": "aws-chunked"}, body),
            auth_fuzz_server.url, signing_name(model))
        for request in (signed, RawRequest(signed.method, signed.path, {**signed.headers, "Authorization": auth,
                                                                      "X-Amz-Date": date}, body)):
            check_answer(send(auth_fuzz_server.port, request), request)

    run()

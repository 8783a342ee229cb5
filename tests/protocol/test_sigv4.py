"""SigV4 verification against AWS's documented examples and against botocore's own signer."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import zlib
from urllib.parse import unquote, urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from eventyard.protocol import sigv4
from eventyard.protocol.base import HttpRequest
from eventyard.protocol.sigv4 import SignatureRefused

# The chunked-upload example of AWS's S3 documentation ("Signature Calculations for the Authorization
# Header: Transferring Payload in Multiple Chunks"): 66,560 bytes of "a" in chunks of 64 KiB, 1 KiB, 0.
DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNK_SIGNATURES = ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]
# The same upload with a signed trailing checksum ("Signature calculations for trailing headers").
DOC_TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
DOC_TRAILER_CHUNK_SIGNATURES = ["b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                                "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"]
DOC_TRAILER = (b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
               b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n")
CHUNKS = [b"a" * 65536, b"a" * 1024, b""]


def chunked(signatures: list[str], trailer: bytes = b"\r\n") -> bytes:
    return b"".join(f"{len(c):x};chunk-signature={s}\r\n".encode() + c + (b"\r\n" if c else b"")
                    for c, s in zip(CHUNKS, signatures, strict=True)) + trailer


def documented_upload(body: bytes) -> HttpRequest:
    headers = {
        "host": "s3.amazonaws.com", "x-amz-date": "20130524T000000Z", "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                         "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                         f"x-amz-decoded-content-length;x-amz-storage-class,Signature={DOC_SEED}",
        "x-amz-content-sha256": sigv4.STREAMING_SIGNED, "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560", "content-length": str(len(body)),
    }
    return HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", headers, body, "/examplebucket/chunkObject.txt")


def test_the_documented_chunked_upload_verifies_seed_and_every_chunk() -> None:
    body = chunked(DOC_CHUNK_SIGNATURES)
    request = documented_upload(body)
    claim = sigv4.claim_of(request)
    assert claim is not None
    sigv4.verify(request, claim, DOC_SECRET)
    assert sigv4.decode_aws_chunked(body, sigv4.chunk_signer(claim, DOC_SECRET), True) == b"a" * 66560


def test_a_chunk_whose_signature_breaks_the_chain_is_refused() -> None:
    tampered = [DOC_CHUNK_SIGNATURES[0], DOC_CHUNK_SIGNATURES[2], DOC_CHUNK_SIGNATURES[1]]
    request = documented_upload(chunked(tampered))
    claim = sigv4.claim_of(request)
    assert claim is not None
    with pytest.raises(SignatureRefused) as refused:
        sigv4.decode_aws_chunked(request.body, sigv4.chunk_signer(claim, DOC_SECRET), True)
    assert refused.value.reason == "mismatch"


def test_changed_chunk_data_is_refused_even_with_the_documented_signatures() -> None:
    body = chunked(DOC_CHUNK_SIGNATURES).replace(b"aaaa", b"aaab", 1)
    claim = sigv4.claim_of(documented_upload(body))
    assert claim is not None
    with pytest.raises(SignatureRefused):
        sigv4.decode_aws_chunked(body, sigv4.chunk_signer(claim, DOC_SECRET), True)


def test_the_documented_signed_trailer_verifies() -> None:
    signer = sigv4.ChunkSigner(sigv4.signing_key(DOC_SECRET, "20130524", "us-east-1", "s3"), "20130524T000000Z",
                               "20130524/us-east-1/s3/aws4_request", DOC_TRAILER_SEED)
    body = chunked(DOC_TRAILER_CHUNK_SIGNATURES, DOC_TRAILER)
    assert sigv4.decode_aws_chunked(body, signer, True) == b"a" * 66560
    with pytest.raises(SignatureRefused):
        sigv4.decode_aws_chunked(body.replace(b"sOO8/Q==", b"sOO8/R=="), signer, True)


def test_an_unsigned_trailer_body_is_unwrapped_and_its_crc32_checked() -> None:
    crc = base64.b64encode(zlib.crc32(b"hello world").to_bytes(4, "big")).decode()
    body = f"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n".encode()
    assert sigv4.decode_aws_chunked(body, None, signed_chunks=False) == b"hello world"
    with pytest.raises(SignatureRefused):
        sigv4.decode_aws_chunked(body.replace(b"hello", b"jello"), None, signed_chunks=False)


@pytest.mark.parametrize("body", [b"", b"zz\r\n", b"5;chunk-signature=x\r\nabc", b"5\r\nabcdeXX0\r\n\r\n"])
def test_malformed_chunked_bodies_are_refused_as_incomplete(body: bytes) -> None:
    with pytest.raises(SignatureRefused) as refused:
        sigv4.decode_aws_chunked(body, None, signed_chunks=False)
    assert refused.value.reason == "incomplete"


# -- botocore as the client -----------------------------------------------------------------------
CREDENTIALS = Credentials("AKIDEXAMPLE", "the-secret")
NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def to_server(aws_request: AWSRequest) -> HttpRequest:
    """What the server sees of a request botocore prepared."""
    prepared = aws_request.prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    headers.setdefault("host", url.netloc)
    return HttpRequest(prepared.method, unquote(url.path), url.query, headers,
                       body if isinstance(body, bytes) else body.encode(), url.path)


def signed(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None,
           query: bool = False, expires: int = 300, monkeypatch: pytest.MonkeyPatch | None = None) -> HttpRequest:
    assert monkeypatch is not None
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: NOW.replace(tzinfo=None))
    aws_request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    signer = SigV4QueryAuth(CREDENTIALS, "lambda", "eu-west-1", expires) if query else SigV4Auth(
        CREDENTIALS, "lambda", "eu-west-1")
    signer.add_auth(aws_request)
    return to_server(aws_request)


def check(request: HttpRequest, secret: str = "the-secret", now: dt.datetime = NOW) -> None:
    claim = sigv4.claim_of(request)
    assert claim is not None
    sigv4.check_time(claim, now.timestamp())
    sigv4.verify(request, claim, secret)


LAMBDA_URL = "http://localhost:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Af/invocations"


def test_botocore_header_signatures_verify_including_a_path_encoded_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed("POST", LAMBDA_URL + "?Qualifier=%24LATEST&a=b%20c", b'{"x": 1}',
                     {"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"}, monkeypatch=monkeypatch)
    check(request)
    claim = sigv4.claim_of(request)
    assert claim is not None and (claim.access_key, claim.region, claim.service) == ("AKIDEXAMPLE", "eu-west-1", "lambda")


def test_a_wrong_secret_a_changed_body_or_a_changed_signed_header_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed("POST", LAMBDA_URL, b'{"x": 1}', {"X-Amz-Invocation-Type": "Event"}, monkeypatch=monkeypatch)
    with pytest.raises(SignatureRefused) as refused:
        check(request, secret="another-secret")
    assert refused.value.reason == "mismatch"
    assert refused.value.message.startswith("The request signature we calculated does not match the signature you "
                                            "provided. Check your AWS Secret Access Key and signing method.")
    assert "The Canonical String for this request should have been" in refused.value.message
    for changed in (HttpRequest(request.method, request.path, request.query_string, request.headers, b'{"x": 2}',
                                request.raw_path),
                    HttpRequest(request.method, request.path, request.query_string,
                                {**request.headers, "x-amz-invocation-type": "RequestResponse"}, request.body,
                                request.raw_path)):
        with pytest.raises(SignatureRefused):
            check(changed)


def test_stale_and_future_signatures_are_refused_in_aws_wording(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed("GET", "http://localhost:4566/2015-03-31/functions/", monkeypatch=monkeypatch)
    check(request, now=NOW + dt.timedelta(minutes=4))
    with pytest.raises(SignatureRefused) as stale:
        check(request, now=NOW + dt.timedelta(minutes=20))
    assert stale.value.reason == "expired"
    assert stale.value.message == ("Signature expired: 20260301T120000Z is now earlier than 20260301T121500Z "
                                   "(20260301T122000Z - 5 min.)")
    with pytest.raises(SignatureRefused) as future:
        check(request, now=NOW - dt.timedelta(minutes=20))
    assert future.value.message == ("Signature not yet current: 20260301T120000Z is still later than "
                                    "20260301T114500Z (20260301T114000Z + 5 min.)")


def test_presigned_urls_verify_until_they_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed("GET", "http://localhost:4566/2015-03-31/functions/?MaxItems=5", query=True, expires=600,
                     monkeypatch=monkeypatch)
    claim = sigv4.claim_of(request)
    assert claim is not None and claim.presigned and claim.expires == 600
    check(request, now=NOW + dt.timedelta(minutes=9))
    with pytest.raises(SignatureRefused) as expired:
        check(request, now=NOW + dt.timedelta(minutes=11))
    assert expired.value.reason == "expired"
    tampered = HttpRequest(request.method, request.path, request.query_string.replace("MaxItems=5", "MaxItems=6"),
                           request.headers, request.body, request.raw_path)
    with pytest.raises(SignatureRefused) as refused:
        check(tampered)
    assert refused.value.reason == "mismatch"


def test_declared_payload_hashes_unsigned_payloads_and_their_mismatches(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b'{"x": 1}'
    check(signed("POST", LAMBDA_URL, body, {"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
                 monkeypatch=monkeypatch))
    unsigned = signed("POST", LAMBDA_URL, body, {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}, monkeypatch=monkeypatch)
    check(unsigned)
    check(HttpRequest(unsigned.method, unsigned.path, "", unsigned.headers, b"anything", unsigned.raw_path))
    lying = signed("POST", LAMBDA_URL, body, {"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()},
                   monkeypatch=monkeypatch)
    with pytest.raises(SignatureRefused):
        check(lying)


@pytest.mark.parametrize("authorization,expected", [
    ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + "0" * 64, "requires 'Credential' parameter"),
    ("AWS4-HMAC-SHA256 Credential=AK/20260301/us-east-1/sqs/aws4_request, Signature=" + "0" * 64,
     "requires 'SignedHeaders' parameter"),
    ("AWS4-HMAC-SHA256 Credential=AK/20260301/us-east-1/sqs/aws4_request, SignedHeaders=x-amz-date, "
     "Signature=" + "0" * 64, "'Host' or ':authority' must be a 'SignedHeader'"),
    ("AWS4-HMAC-SHA256 Credential=AK/20260301/sqs/aws4_request, SignedHeaders=host, Signature=" + "0" * 64,
     "Credential should be scoped to a valid region"),
])
def test_incomplete_authorization_headers_are_named(authorization: str, expected: str) -> None:
    request = HttpRequest("POST", "/", "", {"authorization": authorization, "x-amz-date": "20260301T120000Z",
                                             "host": "localhost"}, b"")
    with pytest.raises(SignatureRefused) as refused:
        sigv4.claim_of(request)
    assert refused.value.reason == "incomplete"
    assert expected in refused.value.message


def test_a_scope_date_other_than_the_request_date_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed("GET", "http://localhost:4566/2015-03-31/functions/", monkeypatch=monkeypatch)
    request.headers["x-amz-date"] = "20260302T120000Z"
    claim = sigv4.claim_of(request)
    assert claim is not None
    with pytest.raises(SignatureRefused) as refused:
        sigv4.check_time(claim, (NOW + dt.timedelta(days=1)).timestamp())
    assert refused.value.message.startswith("Date in Credential scope does not match YYYYMMDD from ISO-8601")

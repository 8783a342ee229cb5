"""Verifying AWS Signature Version 4, as AWS's front ends do.

A request is signed either in its `Authorization` header or in a presigned query
(`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...&X-Amz-Signature=...`). The server rebuilds
the canonical request from what arrived, derives the signing key from the access key's secret and
the credential scope, and compares signatures in constant time. The payload is covered by its
SHA-256 (or by the value of `x-amz-content-sha256`: `UNSIGNED-PAYLOAD`, or one of the streaming
forms, where an `aws-chunked` body carries a signature per chunk chained from the header's "seed"
signature, and optionally signed trailing headers such as a checksum).

Nothing here knows where secrets come from: `runtime/credentials.py` finds them, and
`server/authentication.py` puts the two together. Every refusal is a `SignatureRefused` whose
`reason` the protocols turn into their own error code (see `protocol/auth_errors.py`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import quote, unquote

from eventyard.protocol.base import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_FORMS = (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# How far a header signature's time may be from the server's, either way ("- 5 min." in AWS's message).
MAX_SKEW_SECONDS = 300
MAX_PRESIGNED_EXPIRES = 604_800  # a week
_TIMESTAMP = "%Y%m%dT%H%M%SZ"

# missing/incomplete: no or a malformed signature; mismatch: wrong signature; expired: stale or future date;
# unknown_key, invalid_token, expired_token: what the credential store says about the access key.
Reason = Literal["missing", "incomplete", "mismatch", "expired", "unknown_key", "invalid_token", "expired_token"]


class SignatureRefused(Exception):
    """The request's signature cannot be accepted; `reason` picks the AWS error code."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message


@dataclass(frozen=True)
class SignatureClaim:
    """What a request says about its signature (before anything is verified)."""

    access_key: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str  # X-Amz-Date (or Date, converted): YYYYMMDDTHHMMSSZ
    presigned: bool
    expires: int | None = None  # presigned only: seconds the URL stays valid
    session_token: str | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


# -- reading the claim --------------------------------------------------------------------------
def claim_of(request: HttpRequest) -> SignatureClaim | None:
    """The signature a request carries, or None when it carries none."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        return _header_claim(request, authorization)
    query = _query_pairs(request.query_string)
    names = {name for name, _ in query}
    if "X-Amz-Signature" in names or "X-Amz-Credential" in names:
        return _presigned_claim(dict(query))
    return None


def _header_claim(request: HttpRequest, authorization: str) -> SignatureClaim:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureRefused("incomplete", f"Unsupported AWS 'algorithm': '{algorithm}'")
    parts: dict[str, str] = {}
    for component in rest.split(","):
        name, eq, value = component.strip().partition("=")
        if eq:
            parts[name] = value.strip()
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in parts:
            raise SignatureRefused(
                "incomplete", f"Authorization header requires '{required}' parameter. Authorization={authorization}")
    timestamp = request.headers.get("x-amz-date") or _from_http_date(request.headers.get("date"))
    if not timestamp:
        raise SignatureRefused(
            "incomplete", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                          f"Authorization={authorization}")
    access_key, date, region, service = _credential(parts["Credential"])
    return SignatureClaim(access_key, date, region, service, _signed_header_names(parts["SignedHeaders"]),
                          parts["Signature"], timestamp, presigned=False,
                          session_token=request.headers.get("x-amz-security-token"))


def _presigned_claim(query: dict[str, str]) -> SignatureClaim:
    for required in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"):
        if required not in query:
            raise SignatureRefused("incomplete", f"AWS query-string parameters must include '{required}'. "
                                                 "Re-examine the query-string parameters.")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise SignatureRefused("incomplete", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    expires: int | None = None
    if "X-Amz-Expires" in query:
        try:
            expires = int(query["X-Amz-Expires"])
        except ValueError:
            raise SignatureRefused("incomplete", "X-Amz-Expires should be a number") from None
        if not 0 <= expires <= MAX_PRESIGNED_EXPIRES:
            raise SignatureRefused("incomplete", "X-Amz-Expires must be less than a week (in seconds) that is 604800")
    access_key, date, region, service = _credential(query["X-Amz-Credential"])
    return SignatureClaim(access_key, date, region, service, _signed_header_names(query["X-Amz-SignedHeaders"]),
                          query["X-Amz-Signature"], query["X-Amz-Date"], presigned=True, expires=expires,
                          session_token=query.get("X-Amz-Security-Token"))


def _credential(text: str) -> tuple[str, str, str, str]:
    parts = text.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
        raise SignatureRefused(
            "incomplete", f"Credential should be scoped to a valid region, and a valid service. Credential={text}")
    return parts[0], parts[1], parts[2], parts[3]


def _signed_header_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in text.split(";") if name.strip())
    if "host" not in names and ":authority" not in names:
        raise SignatureRefused("incomplete", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    return names


def _from_http_date(value: str | None) -> str | None:
    """A `Date` header (RFC 7231) as a SigV4 timestamp; SigV4 allows it in place of X-Amz-Date."""
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime(_TIMESTAMP)


# -- checking the claim ---------------------------------------------------------------------------
def check_time(claim: SignatureClaim, now: float) -> None:
    """Header signatures are valid within five minutes of the server's time; presigned URLs until they expire."""
    try:
        signed_at = dt.datetime.strptime(claim.timestamp, _TIMESTAMP).replace(tzinfo=dt.UTC).timestamp()
    except ValueError:
        raise SignatureRefused("incomplete", f"Date must be in ISO-8601 'basic format'. Got '{claim.timestamp}'. "
                                             "See http://en.wikipedia.org/wiki/ISO_8601") from None
    if claim.date != claim.timestamp[:8]:
        raise SignatureRefused(
            "mismatch", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                        f"'{claim.date}' != '{claim.timestamp[:8]}', from '{claim.timestamp}'.")
    if claim.presigned:
        window = claim.expires if claim.expires is not None else MAX_PRESIGNED_EXPIRES
        if now > signed_at + window:
            raise SignatureRefused("expired", f"Signature expired: {claim.timestamp} is now earlier than "
                                              f"{_stamp(now - window)} ({_stamp(now)} - {window} sec.)")
        if signed_at > now + MAX_SKEW_SECONDS:
            raise SignatureRefused("expired", _not_yet_current(claim.timestamp, now))
        return
    if signed_at < now - MAX_SKEW_SECONDS:
        raise SignatureRefused("expired", f"Signature expired: {claim.timestamp} is now earlier than "
                                          f"{_stamp(now - MAX_SKEW_SECONDS)} ({_stamp(now)} - 5 min.)")
    if signed_at > now + MAX_SKEW_SECONDS:
        raise SignatureRefused("expired", _not_yet_current(claim.timestamp, now))


def _not_yet_current(timestamp: str, now: float) -> str:
    return (f"Signature not yet current: {timestamp} is still later than {_stamp(now + MAX_SKEW_SECONDS)} "
            f"({_stamp(now)} + 5 min.)")


def _stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime(_TIMESTAMP)


def verify(request: HttpRequest, claim: SignatureClaim, secret: str) -> None:
    """Raise SignatureRefused('mismatch') unless the claim's signature is this request's, signed with `secret`.

    Services other than S3 encode the path twice before signing; a client that encodes it once (as
    S3 signers do) is accepted too, since both spellings name the same resource.
    """
    key = signing_key(secret, claim.date, claim.region, claim.service)
    first: tuple[str, str] | None = None
    for path in _canonical_paths(request):
        for payload_hash in _payload_hashes(request, claim):
            canonical = canonical_request(request, claim, path, payload_hash)
            to_sign = string_to_sign(claim.timestamp, claim.scope, canonical)
            if hmac.compare_digest(_hmac_hex(key, to_sign), claim.signature):
                return
            first = first or (canonical, to_sign)
    assert first is not None
    raise SignatureRefused(
        "mismatch",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String "
        f"for this request should have been\n'{first[0]}'\n\nThe String-to-Sign should have been\n'{first[1]}'\n")


def canonical_request(request: HttpRequest, claim: SignatureClaim, path: str, payload_hash: str) -> str:
    query = [(k, v) for k, v in _query_pairs(request.query_string) if not (claim.presigned and k == "X-Amz-Signature")]
    encoded = sorted((_encode(k), _encode(v)) for k, v in query)
    headers = "".join(f"{name}:{_header_value(request, name)}\n" for name in claim.signed_headers)
    return "\n".join([request.method.upper(), path, "&".join(f"{k}={v}" for k, v in encoded), headers,
                      ";".join(claim.signed_headers), payload_hash])


def string_to_sign(timestamp: str, scope: str, canonical: str) -> str:
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


@lru_cache(maxsize=256)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _header_value(request: HttpRequest, name: str) -> str:
    value = request.headers.get(name)
    if value is None and name == ":authority":  # HTTP/2's name for the Host
        value = request.headers.get("host")
    # Trimall: no leading or trailing blanks, runs of blanks as one space.
    return " ".join((value or "").split())


def _query_pairs(query_string: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query_string.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _canonical_paths(request: HttpRequest) -> list[str]:
    raw = request.raw_path or quote(request.path, safe="/~")
    normalized = _remove_dot_segments(raw)
    twice = quote(normalized, safe="/~")
    return [twice] if twice == normalized else [twice, normalized]


def _remove_dot_segments(path: str) -> str:
    """RFC 3986's dot-segment removal; AWS also folds repeated slashes."""
    if not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    trailing = "/" if path.endswith("/") and kept else ""
    return "/" + "/".join(kept) + trailing


def _payload_hashes(request: HttpRequest, claim: SignatureClaim) -> list[str]:
    declared = request.headers.get("x-amz-content-sha256")
    if declared is None and claim.presigned:
        declared = dict(_query_pairs(request.query_string)).get("X-Amz-Content-Sha256")
    if declared is None:
        actual = hashlib.sha256(request.body).hexdigest()
        # Presigned URLs of some signers cover the payload as unsigned.
        return [actual, UNSIGNED_PAYLOAD] if claim.presigned else [actual]
    if declared in (UNSIGNED_PAYLOAD, *STREAMING_FORMS):
        return [declared]
    if not hmac.compare_digest(declared.lower(), hashlib.sha256(request.body).hexdigest()):
        raise SignatureRefused("mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
    return [declared]


# -- aws-chunked bodies ---------------------------------------------------------------------------
def is_aws_chunked(request: HttpRequest) -> bool:
    return (request.headers.get("x-amz-content-sha256") in STREAMING_FORMS
            or "aws-chunked" in request.headers.get("content-encoding", "").lower())


@dataclass(frozen=True)
class ChunkSigner:
    """The chain of chunk signatures of one request, seeded by its header signature."""

    key: bytes
    timestamp: str
    scope: str
    seed: str

    def chunk(self, previous: str, data: bytes) -> str:
        to_sign = (f"{ALGORITHM}-PAYLOAD\n{self.timestamp}\n{self.scope}\n{previous}\n{EMPTY_SHA256}\n"
                   f"{hashlib.sha256(data).hexdigest()}")
        return _hmac_hex(self.key, to_sign)

    def trailer(self, previous: str, canonical_trailers: bytes) -> str:
        to_sign = (f"{ALGORITHM}-TRAILER\n{self.timestamp}\n{self.scope}\n{previous}\n"
                   f"{hashlib.sha256(canonical_trailers).hexdigest()}")
        return _hmac_hex(self.key, to_sign)


def chunk_signer(claim: SignatureClaim, secret: str) -> ChunkSigner:
    return ChunkSigner(signing_key(secret, claim.date, claim.region, claim.service), claim.timestamp, claim.scope,
                       claim.signature)


def decode_aws_chunked(body: bytes, signer: ChunkSigner | None, signed_chunks: bool) -> bytes:
    """The payload inside an `aws-chunked` body. With a signer, every chunk signature (and the trailer's)
    must continue the chain from the seed signature; trailing checksums must match the payload."""
    data = bytearray()
    previous = signer.seed if signer else ""
    frames = _frames(body)
    for size, signature, chunk in frames:
        if signer is not None and signed_chunks:
            if signature is None or not hmac.compare_digest(signer.chunk(previous, chunk), signature):
                raise SignatureRefused("mismatch", "The chunk signature we calculated does not match the signature "
                                                   "you provided.")
            previous = signature
        data.extend(chunk)
        if size == 0:
            break
    trailers, trailer_signature = _trailers(frames.rest())
    if signer is not None and signed_chunks and (trailers or trailer_signature):
        canonical = "".join(f"{name}:{value}\n" for name, value in trailers).encode()
        if trailer_signature is None or not hmac.compare_digest(signer.trailer(previous, canonical),
                                                                trailer_signature):
            raise SignatureRefused("mismatch", "The trailer signature we calculated does not match the signature "
                                               "you provided.")
    _check_trailing_checksums(bytes(data), trailers)
    return bytes(data)


class _Frames:
    """Iterates `size[;chunk-signature=sig]\\r\\n data \\r\\n` frames; `rest()` is what follows the last one."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pos = 0

    def __iter__(self) -> Iterator[tuple[int, str | None, bytes]]:
        body = self.body
        while True:
            end = body.find(b"\r\n", self.pos)
            if end < 0:
                raise _malformed()
            header = body[self.pos:end].decode("latin-1")
            size_text, _, extension = header.partition(";")
            try:
                size = int(size_text.strip(), 16)
            except ValueError:
                raise _malformed() from None
            name, _, signature = extension.partition("=")
            start = end + 2
            chunk = body[start:start + size]
            if len(chunk) != size:
                raise _malformed()
            self.pos = start + size
            if size > 0:
                if body[self.pos:self.pos + 2] != b"\r\n":
                    raise _malformed()
                self.pos += 2
            yield size, (signature.strip() if name.strip() == "chunk-signature" else None), chunk
            if size == 0:
                return

    def rest(self) -> bytes:
        return self.body[self.pos:]


def _frames(body: bytes) -> _Frames:
    return _Frames(body)


def _malformed() -> SignatureRefused:
    return SignatureRefused("incomplete", "The aws-chunked request body is malformed.")


def _trailers(rest: bytes) -> tuple[list[tuple[str, str]], str | None]:
    trailers: list[tuple[str, str]] = []
    signature: str | None = None
    for line in rest.decode("latin-1").split("\r\n"):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise _malformed()
        name, value = name.strip().lower(), value.strip()
        if name == "x-amz-trailer-signature":
            signature = value
        else:
            trailers.append((name, value))
    return trailers, signature


_CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "x-amz-checksum-crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "x-amz-checksum-sha1": lambda data: hashlib.sha1(data).digest(),
    "x-amz-checksum-sha256": lambda data: hashlib.sha256(data).digest(),
}


def _check_trailing_checksums(data: bytes, trailers: list[tuple[str, str]]) -> None:
    """Checksums the standard library computes are checked (CRC32C and CRC64NVME are accepted as sent)."""
    for name, value in trailers:
        compute = _CHECKSUMS.get(name)
        if compute is not None and base64.b64encode(compute(data)).decode() != value:
            algorithm = name.removeprefix("x-amz-checksum-").upper()
            raise SignatureRefused("incomplete", f"Value for {name} header is invalid: the {algorithm} checksum of "
                                                 "the payload does not match.")


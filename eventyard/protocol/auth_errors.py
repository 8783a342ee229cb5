"""Authentication failures in each protocol's dialect, with AWS's codes, wording and statuses.

Query services (SNS, SQS's query API) answer with the IAM-era codes (`InvalidClientTokenId`,
`SignatureDoesNotMatch`, 403); JSON services with the Coral ones (`UnrecognizedClientException`,
`InvalidSignatureException`, 400); rest-json services (Lambda, Scheduler) with the Coral codes and
403. A stale or future-dated signature is a signature error whose message starts with
`Signature expired:` / `Signature not yet current:`, as these services answer it (EC2's
`RequestExpired` is not theirs). SQS's JSON API also names the query code in `x-amzn-query-error`
(see services/sqs/wire.py), which botocore reports as the error code.
"""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.protocol.query_protocol import QueryProtocol
from eventyard.protocol.rest_json import RestJsonProtocol
from eventyard.protocol.sigv4 import Reason, SignatureRefused

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"

# reason -> (query code, query status, JSON code, JSON status)
_CODES: dict[Reason, tuple[str, int, str, int]] = {
    "missing": ("MissingAuthenticationToken", 403, "MissingAuthenticationTokenException", 403),
    "incomplete": ("IncompleteSignature", 400, "IncompleteSignatureException", 400),
    "mismatch": ("SignatureDoesNotMatch", 403, "InvalidSignatureException", 400),
    "expired": ("SignatureDoesNotMatch", 403, "InvalidSignatureException", 400),
    "unknown_key": ("InvalidClientTokenId", 403, "UnrecognizedClientException", 400),
    "invalid_token": ("InvalidClientTokenId", 403, "UnrecognizedClientException", 400),
    "expired_token": ("ExpiredToken", 403, "ExpiredTokenException", 400),
}
_MESSAGES: dict[Reason, tuple[str, str]] = {  # reason -> (query wording, JSON wording) when fixed
    "missing": ("Request is missing Authentication Token", "Missing Authentication Token"),
    "unknown_key": (INVALID_TOKEN, INVALID_TOKEN),
    "invalid_token": (INVALID_TOKEN, INVALID_TOKEN),
    "expired_token": (EXPIRED_TOKEN, EXPIRED_TOKEN),
}


def authentication_error(refusal: SignatureRefused, protocol: Any) -> AwsError:
    """The AWS error a client of `protocol` gets for this refusal."""
    query_code, query_status, json_code, json_status = _CODES[refusal.reason]
    fixed = _MESSAGES.get(refusal.reason)
    if isinstance(protocol, QueryProtocol):
        return AwsError(query_code, fixed[0] if fixed else refusal.message, query_status)
    status = 403 if isinstance(protocol, RestJsonProtocol) else json_status
    return AwsError(json_code, fixed[1] if fixed else refusal.message, status)


def missing_authentication(protocol: Any) -> AwsError:
    """What AWS answers a request without a signature, in the protocol's own dialect."""
    return authentication_error(SignatureRefused("missing", ""), protocol)

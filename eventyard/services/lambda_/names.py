"""Function references as AWS accepts them (name, name:qualifier, partial and full ARNs) and ARNs."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from eventyard.protocol.errors import AwsError

_ARN = re.compile(r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):)?"
                  r"(?:function:)?(?P<name>[a-zA-Z0-9-_.]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$")

# The resource pattern AWS prints (recorded November 2025), not the SDK model's newer one.
RESOURCE_PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
    r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None
    region: str
    account_id: str


def parse_ref(text: str, region: str, account_id: str, qualifier: str | None = None) -> FunctionRef:
    match = _ARN.match(text)
    if match is None:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{text}' at 'functionName' "
                       "failed to satisfy constraint: Member must satisfy regular expression pattern")
    if match.group("region") and match.group("region") != region:
        raise AwsError("ResourceNotFoundException",
                       f"Functions from '{match.group('region')}' are not reachable in this region ('{region}')", 404)
    derived = match.group("qualifier")
    if derived and qualifier and derived != qualifier:
        # AWS: a qualifier both in the ARN and in the Qualifier parameter must agree
        raise AwsError("InvalidParameterValueException",
                       "The derived qualifier from the function name does not match the specified qualifier.")
    return FunctionRef(match.group("name"), derived or qualifier, match.group("region") or region,
                       match.group("account") or account_id)


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def layer_arn(region: str, account_id: str, name: str, version: int | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:layer:{name}"
    return f"{arn}:{version}" if version is not None else arn


def last_modified(now: float) -> str:
    """Lambda's own timestamp spelling: 2024-01-01T00:00:00.000+0000."""
    moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def revision_mismatch(api: str) -> AwsError:
    """AWS's refusal of a stale RevisionId, naming the API that reads the current one."""
    return AwsError("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. "
                    f"Call the {api} API to retrieve the latest Revision Id", 412)


def not_found(ref: FunctionRef) -> AwsError:
    arn = function_arn(ref.region, ref.account_id, ref.name, ref.qualifier)
    return AwsError("ResourceNotFoundException", f"Function not found: {arn}", 404)

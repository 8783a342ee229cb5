"""Whether an AWS service may assume a role: what Lambda's CreateFunction and Step Functions'
CreateStateMachine check before they accept an execution role, as AWS does (the role must exist
in its account and its trust policy must name the service's principal)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from eventyard.protocol.errors import AwsError
from eventyard.services.iam import documents, names


async def service_may_assume(platform: Any, role_arn: str, service_principal: str, region: str) -> bool:
    if "iam" not in platform.services:
        return True  # a platform assembled without IAM (engine tests) has no roles to check against
    parsed = names.parse_role_arn(role_arn)
    if parsed is None:
        return False
    account_id, role_name = parsed
    try:
        role = (await platform.call("iam", "GetRole", {"RoleName": role_name}, region=region,
                                    account_id=account_id))["Role"]
    except AwsError:
        return False
    return bool(role["Arn"] == role_arn and documents.trusts_service(
        unquote(role["AssumeRolePolicyDocument"]), service_principal, region))

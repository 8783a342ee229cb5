"""The credentials an execution environment runs with: a session of the function's execution role, as
Lambda gives each environment its own (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN), so
the function's SDK calls are the role's (`sts:GetCallerIdentity` answers
`arn:aws:sts::<account>:assumed-role/<role>/<function name>`).

Issued by STS's AssumeRole through `Platform.call`. When STS cannot issue them (a platform without
STS, or the role is gone) the environment gets fixed placeholder keys, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.iam.names import parse_role_arn

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
SESSION_SECONDS = 3600  # every role allows an hour (MaxSessionDuration's minimum)
RENEW_BEFORE = 900.0  # an environment whose credentials end sooner than this is not reused
PLACEHOLDER = {"AWS_ACCESS_KEY_ID": "AKIAEVENTYARDLAMBDA", "AWS_SECRET_ACCESS_KEY": "eventyard",
               "AWS_SESSION_TOKEN": "eventyard"}


@dataclass(frozen=True)
class EnvironmentCredentials:
    variables: dict[str, str]
    expires_at: float | None  # on the platform's clock; None: placeholders, never renewed


def session_name(function_name: str) -> str:
    """AWS names the role session after the function; a one-letter name is below the session name's
    minimum length (2), and AWS then uses `<name>@lambda_function` (recorded)."""
    return function_name if len(function_name) >= 2 else f"{function_name}@lambda_function"


class RoleCredentials:
    def __init__(self, platform: Any) -> None:
        self.platform = platform

    def now(self) -> float:
        return float(self.platform.clock.now())

    def fresh(self, credentials: EnvironmentCredentials | None) -> bool:
        """Whether an environment's credentials last long enough for it to take another invocation."""
        return credentials is None or credentials.expires_at is None or \
            credentials.expires_at - self.now() > RENEW_BEFORE

    async def issue(self, role_arn: str, function_name: str, region: str) -> EnvironmentCredentials:
        parsed = parse_role_arn(role_arn)
        if parsed is None or "sts" not in self.platform.services:
            return EnvironmentCredentials(dict(PLACEHOLDER), None)
        try:
            # Lambda assumes the role as its service principal, which the role's trust policy must name.
            caller = self.platform.service_caller(
                LAMBDA_PRINCIPAL, f"arn:aws:lambda:{region}:{parsed[0]}:function:{function_name}", parsed[0])
            answer = await self.platform.call("sts", "AssumeRole", {
                "RoleArn": role_arn, "RoleSessionName": session_name(function_name),
                "DurationSeconds": SESSION_SECONDS}, region=region, account_id=parsed[0], caller=caller)
        except AwsError:
            return EnvironmentCredentials(dict(PLACEHOLDER), None)
        issued = answer["Credentials"]
        expiration = issued["Expiration"]
        return EnvironmentCredentials({"AWS_ACCESS_KEY_ID": issued["AccessKeyId"],
                                       "AWS_SECRET_ACCESS_KEY": issued["SecretAccessKey"],
                                       "AWS_SESSION_TOKEN": issued["SessionToken"]},
                                      float(expiration.timestamp() if hasattr(expiration, "timestamp") else expiration))

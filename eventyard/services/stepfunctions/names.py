"""ARNs and names as Step Functions shapes them."""

from __future__ import annotations

import re

from eventyard.protocol.errors import AwsError

_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,80}$")


def validate_name(name: str) -> None:
    # AWS: names are 1-80 chars without whitespace, brackets, wildcards, quote or control characters.
    if not 1 <= len(name) <= 80 or re.search(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]", name):
        raise AwsError("InvalidName", f"Invalid Name: '{name}'")


def machine_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def execution_arn(machine: str, name: str, express: bool = False) -> str:
    parts = machine.split(":")
    kind = "express" if express else "execution"
    return ":".join(parts[:5] + [kind, parts[6], name])


def activity_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:activity:{name}"


def split_qualified(arn: str) -> tuple[str, str | None]:
    """stateMachine ARN possibly qualified by a version number or alias name -> (base, qualifier)."""
    parts = arn.split(":")
    if len(parts) == 8:
        return ":".join(parts[:7]), parts[7]
    return arn, None


def check_arn(arn: str, kind: str) -> None:
    parts = arn.split(":")
    if parts[0] != "arn" or len(parts) < 3:
        raise AwsError("InvalidArn", f"Invalid Arn: 'Invalid ARN prefix: {arn}'")
    if len(parts) < 7 or parts[2] != "states" or parts[5] != kind:
        # AWS names the resource type it refused (recorded: an express execution's 'express')
        named = parts[5] if len(parts) >= 7 and parts[2] == "states" else arn
        raise AwsError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {named}'")

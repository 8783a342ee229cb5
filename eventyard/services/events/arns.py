"""ARNs and names in AWS's exact shapes, and how EventBridge resolves a bus given by name or ARN."""

from __future__ import annotations

from eventyard.protocol.errors import AwsError
from eventyard.runtime.partitions import arn

DEFAULT_BUS = "default"


def bus_arn(account: str, region: str, name: str) -> str:
    return arn("events", region, account, f"event-bus/{name}")


def rule_arn(account: str, region: str, bus: str, name: str) -> str:
    # AWS: rules on the default bus have no bus segment in their ARN.
    middle = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return arn("events", region, account, f"rule/{middle}")


def arn_of(kind: str, account: str, region: str, name: str) -> str:
    return arn("events", region, account, f"{kind}/{name}")


def rule_key(bus: str, name: str) -> str:
    return f"{bus}|{name}"


def bus_name(given: str | None) -> str:
    """EventBusName accepts a name or an ARN (cross-account callers must use the ARN)."""
    if not given:
        return DEFAULT_BUS
    if given.startswith("arn:"):
        return given.split(":event-bus/", 1)[-1]
    return given


def parse_arn(arn: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise AwsError("ValidationException", f"Parameter {arn} is not valid.")
    return parts[2], parts[3], parts[4], parts[5]


def name_from_arn(arn: str, kind: str) -> str:
    _, _, _, resource = parse_arn(arn)
    prefix = f"{kind}/"
    if not resource.startswith(prefix):
        raise AwsError("ValidationException", f"Parameter {arn} is not valid.")
    return resource[len(prefix):]

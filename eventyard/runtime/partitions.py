"""AWS partitions: an ARN's second field names the partition of the region it lives in (`aws`,
`aws-cn` for China, `aws-us-gov`, the isolated `aws-iso*` ones). Every ARN the server hands out
is built here, so a resource in `cn-north-1` is `arn:aws-cn:...` as on AWS."""

from __future__ import annotations

# Longest prefixes first: "us-isob-" before "us-iso-".
_PARTITIONS = (("us-isob-", "aws-iso-b"), ("us-isof-", "aws-iso-f"), ("us-iso-", "aws-iso"), ("eu-isoe-", "aws-iso-e"),
               ("us-gov-", "aws-us-gov"), ("cn-", "aws-cn"))


def partition(region: str) -> str:
    """The partition of `region` (`aws` for every commercial region)."""
    return next((name for prefix, name in _PARTITIONS if region.startswith(prefix)), "aws")


def arn(service: str, region: str, account_id: str, resource: str) -> str:
    return f"arn:{partition(region)}:{service}:{region}:{account_id}:{resource}"


def root_principal(region: str, account_id: str) -> str:
    """The account's root principal as resource policies name it, in the caller's partition."""
    return f"arn:{partition(region)}:iam::{account_id}:root"

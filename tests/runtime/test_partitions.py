"""Partitions: the `aws` of an ARN follows the region (runtime/partitions.py)."""

from __future__ import annotations

import pytest

from eventyard.runtime.partitions import arn, partition, root_principal


@pytest.mark.parametrize("region,expected", [
    ("us-east-1", "aws"), ("eu-central-1", "aws"), ("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"),
    ("us-gov-west-1", "aws-us-gov"), ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"),
    ("eu-isoe-west-1", "aws-iso-e"), ("us-isof-south-1", "aws-iso-f"),
])
def test_a_region_names_its_partition(region: str, expected: str) -> None:
    assert partition(region) == expected


def test_arns_carry_the_partition() -> None:
    assert arn("sqs", "cn-north-1", "000000000000", "q") == "arn:aws-cn:sqs:cn-north-1:000000000000:q"
    assert root_principal("us-isob-east-1", "111111111111") == "arn:aws-iso-b:iam::111111111111:root"

"""How CloudWatch writes numbers, times and regions in reasons and notifications.

CloudWatch is written in Java: numbers in reasons are Java's `Double.toString` (`1.0`, `0.25`,
`1.0E-4`, `1.5E7`), times in notifications are `2024-01-31T12:00:00.000+0000`, and notifications name
the region by its long name ("US East (N. Virginia)").
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)", "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)", "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-southeast-4": "Asia Pacific (Melbourne)", "ca-central-1": "Canada (Central)",
    "ca-west-1": "Canada West (Calgary)", "eu-central-1": "EU (Frankfurt)", "eu-central-2": "EU (Zurich)",
    "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
    "eu-south-1": "EU (Milan)", "eu-south-2": "EU (Spain)", "eu-north-1": "EU (Stockholm)",
    "il-central-1": "Israel (Tel Aviv)", "me-south-1": "Middle East (Bahrain)",
    "me-central-1": "Middle East (UAE)", "sa-east-1": "South America (Sao Paulo)",
}


def region_name(region: str) -> str:
    return REGION_NAMES.get(region, region)


def java_double(value: float) -> str:
    """Java's Double.toString: plain between 10^-3 and 10^7, else computerized scientific notation."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(float(value))
        if "e" in text:  # repr chose an exponent inside Java's plain range
            text = f"{value:f}".rstrip("0")
        return text if "." in text else f"{text}.0"
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    text = "".join(str(d) for d in digits)
    power = len(digits) - 1 + int(exponent)
    fraction = text[1:] or "0"
    return f"{'-' if sign else ''}{text[0]}.{fraction}E{power}"

def aws_timestamp(moment: float) -> str:
    """2024-01-31T12:00:00.123+0000, as alarm notifications and events spell times."""
    value = dt.datetime.fromtimestamp(moment, tz=dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"

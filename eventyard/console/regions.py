"""The regions the console offers: AWS's commercial regions (from botocore's endpoint data) plus
whatever region a request names, since Eventyard serves any region a client signs for."""

from __future__ import annotations

from functools import cache

import botocore.session


@cache
def aws_regions() -> tuple[str, ...]:
    return tuple(botocore.session.get_session().get_available_regions("sqs"))


def known_regions(current: str) -> list[str]:
    return sorted({*aws_regions(), current})

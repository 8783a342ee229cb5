"""Queue names, URLs and ARNs in AWS's exact shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from eventyard.protocol.errors import AwsError

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class QueueKey:
    account_id: str
    region: str
    name: str

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{self.name}"

    def url(self, base_url: str) -> str:
        return f"{base_url}/{self.account_id}/{self.name}"


def queue_does_not_exist() -> AwsError:
    return AwsError("QueueDoesNotExist", "The specified queue does not exist.")


def validate_queue_name(name: str, fifo: bool) -> None:
    if fifo:
        if not _FIFO_NAME.match(name):
            raise AwsError(
                "InvalidParameterValue",
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
                "must end with .fifo suffix and be 1 to 80 in length.",
            )
    elif not _NAME.match(name):
        raise AwsError(
            "InvalidParameterValue",
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        )


def key_from_url(url: str, region: str) -> QueueKey:
    """The queue a QueueUrl names. The region is the request's: queues of other regions are unseen."""
    path = urlparse(url).path if "://" in url else url
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or not re.fullmatch(r"\d{12}", parts[-2]):
        raise queue_does_not_exist()
    return QueueKey(parts[-2], region, parts[-1])


def key_from_arn(arn: str) -> QueueKey | None:
    match = _ARN.match(arn)
    if match is None:
        return None
    return QueueKey(match.group(2), match.group(1), match.group(3))

"""Queue names, URLs and ARNs in AWS's exact shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

from eventyard.protocol.errors import AwsError
from eventyard.runtime.partitions import arn

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
        return arn("sqs", self.region, self.account_id, self.name)

    def url(self, base_url: str) -> str:
        """The URL Eventyard hands out: it names the region, as AWS's queue URLs do, in the path
        (`<base>/queue/<region>/<account>/<name>`), so any host reaches it."""
        return f"{base_url}/queue/{self.region}/{self.account_id}/{self.name}"


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


# Hosts AWS's queue URLs use: sqs.<region>.amazonaws.com, <region>.queue.amazonaws.com (and the same
# shapes under other domains, e.g. LocalStack's sqs.<region>.localhost.localstack.cloud).
_REGION_HOSTS = (re.compile(r"^sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)\."), re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\."))


def key_from_url(url: str, region: str, account_id: str = "") -> QueueKey:
    """The queue a QueueUrl names (every SQS request names one: parsed once per distinct URL; a URL
    that names no queue raises each time, and errors are not kept)."""
    return _key_from_url(url, region, account_id)


@lru_cache(maxsize=4096)
def _key_from_url(url: str, region: str, account_id: str) -> QueueKey:
    """The queue a QueueUrl names. Every form a client sends works: Eventyard's
    `/queue/<region>/<account>/<name>`, `/<account>/<name>` (the request's region), AWS's hosts that
    name a region, and a bare queue name (the caller's account), which AWS accepts too. The request's
    region is the one that counts: a URL naming another region's queue finds no queue."""
    if "/" not in url and "://" not in url:
        if not url or not account_id:
            raise queue_does_not_exist()
        return QueueKey(account_id, region, url)
    parsed = urlparse(url) if "://" in url else None
    path = parsed.path if parsed is not None else url
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or not re.fullmatch(r"\d{12}", parts[-2]):
        raise queue_does_not_exist()
    named = None
    if len(parts) >= 4 and parts[-4] == "queue":
        named = parts[-3]
    elif parsed is not None:
        host = parsed.hostname or ""
        named = next((m.group(1) for m in (p.match(host) for p in _REGION_HOSTS) if m), None)
    if named is not None and named != region:
        raise queue_does_not_exist()
    return QueueKey(parts[-2], region, parts[-1])


def key_from_arn(arn: str) -> QueueKey | None:
    match = _ARN.match(arn)
    if match is None:
        return None
    return QueueKey(match.group(2), match.group(1), match.group(3))

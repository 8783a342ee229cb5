"""Reading console pages as a browser would, over plain HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.conftest import ServerProcess

MOUNT = "/_eventyard/console"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def get(server: ServerProcess, path: str, headers: dict[str, str] | None = None,
        follow: bool = True) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(server.url + path, headers=headers or {})
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def page(server: ServerProcess, path: str, **query: str) -> str:
    status, body, _ = get(server, f"{MOUNT}/{path}?{urllib.parse.urlencode(query)}")
    assert status == 200, body
    return body


def post(server: ServerProcess, path: str, form: dict[str, str],
         headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(server.url + f"{MOUNT}/{path}", data=urllib.parse.urlencode(form).encode(),
                                     headers={"content-type": "application/x-www-form-urlencoded", **(headers or {})},
                                     method="POST")
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy; generous deadline, no dependence on machine speed."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def dead_letter_setup(server: ServerProcess, name: str, max_receives: int = 1) -> tuple[Any, str, str, str]:
    """A queue whose messages go to a DLQ after `max_receives` receives: (client, url, dlq_url, dlq_arn)."""
    sqs = server.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=name, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}),
        "VisibilityTimeout": "0"})["QueueUrl"]
    return sqs, url, dlq_url, dlq_arn


def poison(sqs: Any, url: str, body: str, receives: int = 1) -> None:
    """Send a message and receive it without deleting until SQS moves it to the DLQ."""
    sqs.send_message(QueueUrl=url, MessageBody=body)
    for _ in range(receives + 1):
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

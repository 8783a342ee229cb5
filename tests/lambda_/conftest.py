"""Helpers for Lambda tests: zips built in memory and functions created against the live server."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def make_zip(files: dict[str, str], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644)) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def error_response(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """The whole answer of a call that must be refused (Error, ResponseMetadata, extra members)."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response  # type: ignore[return-value]


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """The Error member (Code, Message, ...) of a call that must be refused."""
    return error_response(call, **kwargs)["Error"]


@pytest.fixture
def lam(server: Any) -> Any:
    return server.client("lambda")


@pytest.fixture
def zipped_function(lam: Any, unique: str) -> Iterator[Callable[..., str]]:
    """Functions of any runtime from files zipped in memory, deleted after the test."""
    created: list[str] = []

    def make(runtime: str, files: dict[str, str], handler: str, **extra: Any) -> str:
        name = f"{runtime.split('.')[0].rstrip('0123456789')}-{unique}-{len(created)}"
        lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                            Code={"ZipFile": make_zip(files)}, **extra)
        created.append(name)
        return name

    yield make
    for name in created:
        lam.delete_function(FunctionName=name)


def invoke_json(lam: Any, name: str, event: Any) -> tuple[Any, Any]:
    """(FunctionError, the decoded payload) of a synchronous invoke."""
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


def queue_arn(server: Any, name: str) -> tuple[str, str]:
    """A new SQS queue's URL and ARN."""
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@pytest.fixture
def make_function(lam: Any, unique: str) -> Callable[..., str]:
    created: list[str] = []

    def make(code: str, handler: str = "app.handler", name: str | None = None, **kwargs: Any) -> str:
        name = name or f"fn-{unique}-{len(created)}"
        lam.create_function(FunctionName=name, Runtime=kwargs.pop("Runtime", "python3.12"), Role=ROLE,
                            Handler=handler, Code={"ZipFile": make_zip({"app.py": code})}, **kwargs)
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            lam.delete_function(FunctionName=name)
        except Exception:
            pass


def log_messages(logs: Any, name: str) -> list[str]:
    """A function's log events so far; none while its log group does not exist yet (the log agent
    writes after the invocation answered, and the group comes with its first lines, as on AWS)."""
    try:
        return [e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)

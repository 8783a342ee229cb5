"""The log events Lambda itself writes around an invocation, worded and terminated as AWS writes them
(recorded: every platform line ends with a newline, the REPORT line with a tab and a newline)."""

from __future__ import annotations

import datetime as dt
import math
import re

# AWS numbers each runtime's versions (`python:3.13.v33`); Eventyard has one version of each runtime.
RUNTIME_VERSION = "v10"
MAX_RESPONSE = 6 * 1024 * 1024 + 100  # AWS: "maximum allowed payload size (6291556 bytes)"


def runtime_version_name(runtime: str) -> str:
    """`python3.13` -> `python:3.13`, `nodejs20.x` -> `nodejs:20`, `provided.al2023` -> `provided:al2023`."""
    match = re.fullmatch(r"([a-z]+)\.?(.*?)(\.x)?", runtime)
    if not match or not match.group(2):
        return f"{runtime}.{RUNTIME_VERSION}"
    return f"{match.group(1)}:{match.group(2)}.{RUNTIME_VERSION}"


def init_start(runtime: str, runtime_version_arn: str) -> str:
    return f"INIT_START Runtime Version: {runtime_version_name(runtime)}\tRuntime Version ARN: {runtime_version_arn}\n"


def start(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report(request_id: str, duration_ms: float, memory: int, used_mb: int, init_ms: float | None,
           timed_out: bool) -> str:
    fields = [f"REPORT RequestId: {request_id}", f"Duration: {duration_ms:.2f} ms",
              f"Billed Duration: {max(1, math.ceil(duration_ms))} ms", f"Memory Size: {memory} MB",
              f"Max Memory Used: {used_mb} MB"]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if timed_out:
        fields.append("Status: timeout")
    return "\t".join(fields) + "\t\n"


def timed_out(request_id: str, message: str) -> str:
    moment = dt.datetime.now(dt.UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return f"{stamp} {request_id} {message}\n"


def exited(message: str) -> str:
    return f"{message}\n"


def too_large() -> dict[str, str]:
    """The error document that replaces a response over the limit."""
    return {"errorMessage": f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes).",
            "errorType": "Function.ResponseSizeTooLarge"}

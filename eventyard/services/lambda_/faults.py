"""Lambda under fault rules (/_eventyard/faults): invocations that fail, asynchronous invocations held
back, and event source mapping batches held back or delivered twice.

A rule names a function by name or ARN; an event source mapping also by its UUID or its source's ARN.
A failed invocation does not run the function: it returns what an unhandled error returns (the
`Unhandled` function error and an error document), so retries, destinations, DLQs and bisection
react to it as to a handler that raised.
"""

from __future__ import annotations

from typing import Any

from eventyard.runtime.faults import INJECTED_FUNCTION_ERROR, resource_names
from eventyard.services.lambda_.names import function_arn
from eventyard.services.lambda_.pool import InvokeResult


def function_resources(region: str, account_id: str, name: str, qualifier: str | None = None) -> tuple[str, ...]:
    return resource_names(function_arn(region, account_id, name), function_arn(region, account_id, name, qualifier))


def mapping_resources(key: str, config: dict[str, Any]) -> tuple[str, ...]:
    return resource_names(key, config["FunctionArn"], config["EventSourceArn"])


def failed_invocation(request_id: str, version: str, name: str) -> InvokeResult:
    return InvokeResult(request_id, INJECTED_FUNCTION_ERROR, "Unhandled", version, [], "", f"/aws/lambda/{name}", 0.0)

"""CloudWatch Logs' validation dialect: the JSON 1.1 protocol with Logs' own wording for bad input.

The older Logs operations answer a model violation with `InvalidParameterException` and print every
value in quotes (`Value '10001' at 'limit' ...`); a log group or stream name over 512 characters gets
a sentence of its own. The newer operations (deliveries, scheduled queries: those whose model lists
`ValidationException` and not `InvalidParameterException`) answer the usual `ValidationException`.
All recorded against AWS (LocalStack's AWS-validated Logs suite).
"""

from __future__ import annotations

from typing import Any

from botocore.model import ServiceModel

from eventyard.protocol.base import HttpRequest, ParsedRequest
from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import JsonProtocol, coral_validation_error
from eventyard.protocol.validation import Violation

NAME_LENGTH_MESSAGE = "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
_NAME_MEMBERS = {"logGroupName", "logStreamName"}


class _Violations(Exception):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(len(violations))
        self.violations = violations


def _hold(violations: list[Violation]) -> AwsError:
    raise _Violations(violations)


def _java_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(item) for item in value) + "]"
    return str(value)


def invalid_parameter(violations: list[Violation]) -> AwsError:
    """The older operations' answer: InvalidParameterException, every value quoted."""
    for violation in violations:
        if violation.member in _NAME_MEMBERS and "length less than or equal to 512" in violation.constraint:
            return AwsError("InvalidParameterException", NAME_LENGTH_MESSAGE)
    described = [f"Value {'null' if v.value is None else _quoted(v.value)} at '{v.path}' failed to satisfy "
                 f"constraint: {v.constraint}" for v in violations]
    count = len(violations)
    return AwsError("InvalidParameterException",
                    f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(described))


def _quoted(value: Any) -> str:
    return f"'{_java_text(value)}'"


def _answers_validation(model: ServiceModel, operation: str) -> bool:
    errors = {shape.name for shape in model.operation_model(operation).error_shapes}
    return "ValidationException" in errors and "InvalidParameterException" not in errors


class LogsJsonProtocol(JsonProtocol):
    def __init__(self, model: ServiceModel) -> None:
        super().__init__(model, on_violations=_hold)
        self._newer = {name for name in model.operation_names if _answers_validation(model, name)}

    def parse(self, request: HttpRequest) -> ParsedRequest:
        try:
            return super().parse(request)
        except _Violations as held:
            name = request.headers.get("x-amz-target", "").rpartition(".")[2]
            error = coral_validation_error(held.violations) if name in self._newer else invalid_parameter(
                held.violations)
            raise error from None

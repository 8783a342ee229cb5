"""CloudWatch Logs' validation dialect: the JSON 1.1 protocol with Logs' own wording for bad input.

The older Logs operations answer a model violation with `InvalidParameterException` and print every
value in quotes (`Value '10001' at 'limit' ...`); a log group or stream name over 512 characters gets
a sentence of its own. The newer operations (deliveries, scheduled queries: those whose model lists
`ValidationException` and not `InvalidParameterException`) answer the usual `ValidationException`.
A list of metric transformations is printed as Java prints it (`[MetricTransformation(metricName=m,
...)]`), and a colon in a metric namespace is accepted although the model's pattern refuses it.
All recorded against AWS (LocalStack's AWS-validated Logs suite).
"""

from __future__ import annotations

import math
from decimal import Decimal
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


def _hold(violations: list[Violation]) -> AwsError | None:
    kept = [v for v in violations if not _accepted(v)]
    if kept:
        raise _Violations(kept)
    return None


def _accepted(violation: Violation) -> bool:
    """Model constraints AWS does not enforce. The model's MetricNamespace pattern `[^:*$]*` refuses a
    colon, yet PutMetricFilter accepts `A.B-c_d/1#2:metricNamespace` (recorded: LocalStack's
    test_put_metric_filter_with_special_namespace); we follow the recording for the colon only."""
    return (violation.member == "metricNamespace" and violation.constraint.startswith("Member must satisfy regular")
            and isinstance(violation.value, str) and "*" not in violation.value and "$" not in violation.value)


# Java's toString of the structures Logs prints in its messages, fields in the order AWS prints them
# (recorded: `MetricTransformation(metricName=m, metricNamespace=n, metricValue=1, defaultValue=null,
# unit=null, dimensions=null)`), keyed by the list member that holds them.
_JAVA_STRUCTURES = {
    "metricTransformations": ("MetricTransformation", ("metricName", "metricNamespace", "metricValue",
                                                       "defaultValue", "unit", "dimensions")),
}
_DOUBLES = {"defaultValue"}


def _java_text(value: Any, structure: tuple[str, tuple[str, ...]] | None = None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(item, structure) for item in value) + "]"
    if isinstance(value, dict) and structure is not None:
        name, fields = structure
        return f"{name}(" + ", ".join(f"{f}={_java_field(f, value.get(f))}" for f in fields) + ")"
    if isinstance(value, dict):  # a java.util.Map (in the order the request gave it)
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _java_field(name: str, value: Any) -> str:
    if value is None:
        return "null"
    if name in _DOUBLES and isinstance(value, (int, float)) and not isinstance(value, bool):
        return java_double(float(value))
    return _java_text(value)


def java_double(value: float) -> str:
    """Double.toString: `1.0`, `0.25`, and computerized scientific notation outside [1e-3, 1e7)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python's shortest form is plain decimal with a point in this range
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + int(exponent)
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power}"


def invalid_parameter(violations: list[Violation]) -> AwsError:
    """The older operations' answer: InvalidParameterException, every value quoted."""
    for violation in violations:
        if violation.member in _NAME_MEMBERS and "length less than or equal to 512" in violation.constraint:
            return AwsError("InvalidParameterException", NAME_LENGTH_MESSAGE)
    described = [f"Value {'null' if v.value is None else _quoted(v.value, v.member)} at '{v.path}' failed to satisfy "
                 f"constraint: {v.constraint}" for v in violations]
    count = len(violations)
    return AwsError("InvalidParameterException",
                    f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(described))


def _quoted(value: Any, member: str) -> str:
    return f"'{_java_text(value, _JAVA_STRUCTURES.get(member))}'"


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

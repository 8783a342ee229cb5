"""SNS's error dialect: the query-protocol codes and message shapes SNS answers with.

SNS words most client mistakes as `InvalidParameter` "Invalid parameter: <Name>" (optionally
followed by " Reason: ..."), missing resources as `NotFound` (HTTP 404).
"""

from __future__ import annotations

from eventyard.protocol.errors import AwsError
from eventyard.protocol.validation import Violation


def invalid_parameter(name: str, reason: str | None = None) -> AwsError:
    message = f"Invalid parameter: {name}" + (f" Reason: {reason}" if reason else "")
    return AwsError("InvalidParameter", message, 400)


class InvalidAttribute(AwsError):
    """An attribute value SNS refuses. Set*Attributes words it "Invalid parameter: <Name>: <reason>";
    given at creation (Subscribe's Attributes) it is "Invalid parameter: Attributes Reason: <Name>: <reason>"."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__("InvalidParameter", f"Invalid parameter: {name}: {reason}", 400)
        self.detail = f"{name}: {reason}"

    def at_creation(self) -> AwsError:
        return invalid_parameter("Attributes", self.detail)


def invalid_value(message: str) -> AwsError:
    # The model's InvalidParameterValueException travels as "ParameterValueInvalid".
    return AwsError("ParameterValueInvalid", message, 400)


def topic_not_found() -> AwsError:
    return AwsError("NotFound", "Topic does not exist", 404)


def subscription_not_found() -> AwsError:
    return AwsError("NotFound", "Subscription does not exist", 404)


def resource_not_found() -> AwsError:
    return AwsError("ResourceNotFound", "Resource does not exist", 404)


def violations_error(violations: list[Violation]) -> AwsError:
    """SNS names the first parameter that breaks the model (a missing one too)."""
    first = violations[0]
    name = first.member or first.path
    if first.missing:
        return invalid_parameter(name, "no value for required parameter")
    return invalid_parameter(name, first.constraint)

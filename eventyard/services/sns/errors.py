"""SNS's error dialect: the query-protocol codes and message shapes SNS answers with.

SNS words most client mistakes as `InvalidParameter` "Invalid parameter: <Name>" (optionally
followed by " Reason: ..."), missing resources as `NotFound` (HTTP 404).
"""

from __future__ import annotations

from eventyard.protocol.errors import AwsError
from eventyard.protocol.validation import Violation, coral_message


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


ATTRIBUTE_MAPS = {"Attributes", "attributes"}


def missing_attributes(member: str = "attributes") -> AwsError:
    return AwsError("ValidationError", f"1 validation error detected: Value null at '{member}' failed to satisfy "
                    "constraint: Member must not be null", 400)


def violations_error(violations: list[Violation], scalar_members: frozenset[str] = frozenset()) -> AwsError | None:
    """SNS words a bad top-level text or number parameter itself ("Invalid parameter: <Name> Reason: ...");
    anything else that breaks the model (a missing map or list, a member inside a structure) gets the
    front end's "1 validation error detected: ..." as ValidationError (both recorded against AWS). A
    missing Attributes map alone is left to the operation: AWS judges the ARN and names first and only
    then answers that ValidationError (`missing_attributes`)."""
    if all(v.missing and v.member in ATTRIBUTE_MAPS and "." not in v.path for v in violations):
        return None
    first = violations[0]
    if "." not in first.path and first.member in scalar_members:
        if first.missing:
            return invalid_parameter(first.member, "no value for required parameter")
        return invalid_parameter(first.member, first.constraint)
    return AwsError("ValidationError", coral_message(violations), 400)


def authorization_error(message: str) -> AwsError:
    """A caller another account's topic policy does not admit (runtime/access.py words it)."""
    return AwsError("AuthorizationError", message, 403)

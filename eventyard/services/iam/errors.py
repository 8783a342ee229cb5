"""IAM's error dialect: codes, statuses and AWS's wording for missing, duplicate and busy entities."""

from __future__ import annotations

from eventyard.protocol.errors import AwsError
from eventyard.protocol.validation import Violation, coral_message

# How IAM names each kind of entity in its messages.
_NOUN = {"role": "role", "user": "user", "group": "group"}


def violations_error(violations: list[Violation]) -> AwsError:
    """Input that breaks the model: IAM's `ValidationError` with the coral wording."""
    return AwsError("ValidationError", coral_message(violations), 400)


def no_such_entity(kind: str, name: str) -> AwsError:
    if kind == "instance-profile":
        return AwsError("NoSuchEntity", f"Instance Profile {name} cannot be found.", 404)
    return AwsError("NoSuchEntity", f"The {_NOUN[kind]} with name {name} cannot be found.", 404)


def already_exists(kind: str, name: str) -> AwsError:
    if kind == "instance-profile":
        return AwsError("EntityAlreadyExists", f"Instance Profile {name} already exists.", 409)
    return AwsError("EntityAlreadyExists", f"{_NOUN[kind].capitalize()} with name {name} already exists.", 409)


def no_such_inline_policy(kind: str, policy_name: str) -> AwsError:
    return AwsError("NoSuchEntity", f"The {_NOUN[kind]} policy with name {policy_name} cannot be found.", 404)


def no_such_policy(arn: str) -> AwsError:
    return AwsError("NoSuchEntity", f"Policy {arn} was not found.", 404)


def not_attachable(arn: str) -> AwsError:
    return AwsError("NoSuchEntity", f"Policy {arn} does not exist or is not attachable.", 404)


def no_such_version(arn: str, version_id: str) -> AwsError:
    return AwsError("NoSuchEntity", f"Policy {arn} version {version_id} does not exist or is not attachable.", 404)


def no_such_access_key(access_key_id: str) -> AwsError:
    return AwsError("NoSuchEntity", f"The Access Key with id {access_key_id} cannot be found.", 404)


def delete_conflict(message: str) -> AwsError:
    return AwsError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> AwsError:
    return AwsError("LimitExceeded", message, 409)


def invalid_input(message: str) -> AwsError:
    return AwsError("InvalidInput", message, 400)


def malformed_policy(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message, 400)

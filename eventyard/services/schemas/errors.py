"""The Schema Registry's error dialect: rest-json errors whose body carries `Code` and `Message`."""

from __future__ import annotations

from eventyard.protocol.errors import AwsError
from eventyard.protocol.validation import Violation


class SchemasError(AwsError):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(code, message, status)
        self.fields = {"Code": code}


def bad_request(message: str) -> SchemasError:
    return SchemasError("BadRequestException", message, 400)


def not_found(message: str) -> SchemasError:
    return SchemasError("NotFoundException", message, 404)


def conflict(message: str) -> SchemasError:
    return SchemasError("ConflictException", message, 409)


def forbidden(message: str) -> SchemasError:
    return SchemasError("ForbiddenException", message, 403)


def precondition_failed(message: str) -> SchemasError:
    return SchemasError("PreconditionFailedException", message, 412)


def registry_not_found(name: str) -> SchemasError:
    return not_found(f"Registry with name {name} does not exist.")


def schema_not_found(name: str) -> SchemasError:
    return not_found(f"Schema with name {name} does not exist.")


def version_not_found(name: str, version: str) -> SchemasError:
    return not_found(f"Schema version {version} of schema {name} does not exist.")


def violations_error(violations: list[Violation]) -> SchemasError:
    first = violations[0]
    name = first.member or first.path
    if first.missing:
        return bad_request(f"{name} is required.")
    return bad_request(f"Invalid {name}: {first.constraint}")

"""EventBridge Pipes' error dialect: rest-json errors with AWS's codes, statuses and wording."""

from __future__ import annotations

from eventyard.protocol.errors import AwsError
from eventyard.protocol.validation import Violation, coral_message


class PipesError(AwsError):
    """An AwsError that carries the error shape's extra members (ConflictException's resourceId...)."""

    def __init__(self, code: str, message: str, status: int, **fields: object) -> None:
        super().__init__(code, message, status)
        self.fields = fields


def validation(message: str, field: str | None = None) -> PipesError:
    fields = {"fieldList": [{"name": field, "message": message}]} if field else {}
    return PipesError("ValidationException", message, 400, **fields)


def not_found(name: str) -> PipesError:
    return PipesError("NotFoundException", f"Pipe {name} does not exist.", 404)


def tagged_resource_not_found(arn: str) -> PipesError:
    return PipesError("NotFoundException", f"Resource {arn} does not exist.", 404)


def already_exists(name: str) -> PipesError:
    return PipesError("ConflictException", f"Pipe {name} already exists.", 409, resourceId=name, resourceType="pipe")


def in_transition(name: str, state: str) -> PipesError:
    return PipesError("ConflictException", f"Pipe {name} cannot be modified while it is in state {state}.", 409,
                      resourceId=name, resourceType="pipe")


def violations_error(violations: list[Violation]) -> PipesError:
    """The model's constraints, in the shape Pipes answers them (a message plus a field list)."""
    return PipesError("ValidationException", coral_message(violations), 400,
                      fieldList=[{"name": v.member or v.path, "message": v.constraint} for v in violations])

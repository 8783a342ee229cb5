"""Lambda's validation wording: the front end's messages, with enum sets printed in the order Lambda
prints them (recorded against AWS) where that is not the model's order."""

from __future__ import annotations

from dataclasses import replace

from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import coral_validation_error
from eventyard.protocol.validation import Violation
from eventyard.services.lambda_.names import RESOURCE_PATTERN

_RECORDED_ENUM_ORDER = {
    "[BUFFERED, RESPONSE_STREAM]": "[RESPONSE_STREAM, BUFFERED]",  # InvokeMode
    "[TRIM_HORIZON, LATEST, AT_TIMESTAMP]": "[LATEST, AT_TIMESTAMP, TRIM_HORIZON]",  # StartingPosition
    "[Allow, Terminate]": "[Terminate, Allow]",  # RecursiveLoop
}


def _as_recorded(violation: Violation) -> Violation:
    if violation.path == "resource" and violation.constraint.startswith(_PATTERN):
        # Lambda prints the resource pattern it had when recorded, not the SDK model's newer one
        return replace(violation, constraint=f"{_PATTERN}: {RESOURCE_PATTERN}")
    for model_order, recorded in _RECORDED_ENUM_ORDER.items():
        if violation.constraint.endswith(model_order):
            return replace(violation, constraint=violation.constraint.replace(model_order, recorded))
    return violation


def on_violations(violations: list[Violation]) -> AwsError | None:
    """The front end's error, less Runtime's enum: Lambda judges the runtime itself (runtimes.py)."""
    kept = [_as_recorded(v) for v in violations if not (v.path == "runtime" and v.constraint.startswith(_ENUM))]
    return coral_validation_error(kept) if kept else None


_ENUM = "Member must satisfy enum value set"
_PATTERN = "Member must satisfy regular expression pattern"


def untyped(code: str, message: str, status: int = 400) -> AwsError:
    """An error AWS answers without the `Type` member its shape has (recorded for some of Lambda's)."""
    error = AwsError(code, message, status)
    error.fields = {"Type": None}  # type: ignore[attr-defined]
    return error

"""The failures an execution can meet, named as the States Language names them.

`StatesError` is a runtime failure (it may be retried or caught by `ErrorEquals`); `InvalidDefinition`
is raised while reading a definition and becomes the API's `InvalidDefinition` error.
"""

from __future__ import annotations

from collections.abc import Callable


class StatesError(Exception):
    """A failure with an ASL error name (`States.Runtime`, a Fail state's Error, a task's error)."""

    def __init__(self, error: str | None, cause: str | None = None, location: str | None = None,
                 matched_by_all: bool | None = None) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        # Whether a States.ALL rule takes it; None: as NOT_MATCHED_BY_ALL says. AWS's Catch on
        # States.ALL takes a task result over the size limit, though not an oversized state output.
        self.matched_by_all = matched_by_all
        self.location = location  # the field an evaluation failed in (EvaluationFailed's `location`)
        self.recorded = False
        # An event the failing state records only if no Retry takes the error (AWS: a retried Map
        # records no MapStateFailed for the attempts it retries).
        self.unless_retried: Callable[[], None] | None = None


class InvalidDefinition(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PathNotFound(Exception):
    """A JSONPath selected nothing; callers turn it into the field-specific States.Runtime message."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


# Errors a Retry/Catch may name that States.ALL does not cover.
NOT_MATCHED_BY_ALL = {"States.Runtime", "States.DataLimitExceeded"}

"""Errors raised while compiling patterns or validating test events.

Each carries AWS's reason text without any service prefix, so a service layer can wrap it in
its own error shape (EventBridge: ``InvalidEventPatternException`` with "Event pattern is not
valid. Reason: ..."; SNS: ``InvalidParameter`` with "Invalid parameter: FilterPolicy: ..."), and
the parser position AWS appends ("\\n at [Source: (String)"..."; line: 1, column: 22]") when the
error came from its JSON parser (Jackson). Checks AWS makes after parsing carry no position.
"""

from __future__ import annotations

# Jackson quotes at most this many characters of the source in an error's location.
_SOURCE_SNIPPET = 500
# How Jackson names a source it was told not to quote (SNS's JSON checks before event-ruler).
REDACTED_SOURCE = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"


def jackson_location(text: str, pointer: int, redacted: bool = False) -> str:
    """Jackson's location suffix for a parser standing at index `pointer` of `text`."""
    row_start = text.rfind("\n", 0, pointer) + 1
    line = text.count("\n", 0, pointer) + 1
    column = pointer - row_start + 1
    if redacted:
        source = REDACTED_SOURCE
    elif len(text) > _SOURCE_SNIPPET:
        source = f'(String)"{text[:_SOURCE_SNIPPET]}"[truncated {len(text) - _SOURCE_SNIPPET} chars]'
    else:
        source = f'(String)"{text}"'
    return f"\n at [Source: {source}; line: {line}, column: {column}]"


class InvalidPattern(ValueError):
    """A pattern or filter policy AWS would reject; ``message`` is AWS's reason text and
    ``location`` the parser position AWS appends to it (empty for checks made after parsing)."""

    def __init__(self, message: str, *, dialect: str = "eventbridge", location: str = "") -> None:
        self.message = message
        self.dialect = dialect
        self.location = location
        super().__init__(self.full_message)

    @property
    def reason(self) -> str:
        """The reason with its parser position, as AWS words it after the attribute name."""
        return self.message + self.location

    @property
    def full_message(self) -> str:
        """The message as the service reports it (EventBridge wording for that dialect)."""
        if self.dialect == "eventbridge":
            return f"Event pattern is not valid. Reason: {self.reason}"
        if self.dialect == "sns-scope":  # AWS words scope errors without the attribute name
            return f"Invalid parameter: {self.reason}"
        return f"Invalid parameter: FilterPolicy: {self.reason}"


class InvalidEvent(ValueError):
    """An event TestEventPattern refuses (``InvalidEventPatternException`` in AWS's API)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

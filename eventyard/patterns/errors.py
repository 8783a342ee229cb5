"""Errors raised while compiling patterns or validating test events.

Each carries AWS's message text without any service prefix, so a service layer can wrap it in
its own error shape (EventBridge: ``InvalidEventPatternException`` with "Event pattern is not
valid. Reason: ..."; SNS: ``InvalidParameter`` with "Invalid parameter: FilterPolicy: ...").
"""

from __future__ import annotations


class InvalidPattern(ValueError):
    """A pattern or filter policy AWS would reject; ``message`` is AWS's reason text."""

    def __init__(self, message: str, *, dialect: str = "eventbridge") -> None:
        self.message = message
        self.dialect = dialect
        super().__init__(self.full_message)

    @property
    def full_message(self) -> str:
        """The message as the service reports it (EventBridge wording for that dialect)."""
        if self.dialect == "eventbridge":
            return f"Event pattern is not valid. Reason: {self.message}"
        if self.dialect == "sns-scope":  # AWS words scope errors without the attribute name
            return f"Invalid parameter: {self.message}"
        return f"Invalid parameter: FilterPolicy: {self.message}"


class InvalidEvent(ValueError):
    """An event TestEventPattern refuses (``InvalidEventPatternException`` in AWS's API)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

"""AWS errors as exceptions. Domain code raises them; each protocol renders them on the wire."""

from __future__ import annotations


class AwsError(Exception):
    """An error a client must see as AWS would send it: its code, message and HTTP status.

    `code` is the error's name in the service model (e.g. `QueueDoesNotExist`, `ValidationException`);
    protocols that need another spelling on the wire (SQS's legacy query codes) translate it.
    """

    def __init__(self, code: str, message: str = "", status: int = 400, sender_fault: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault


class ValidationError(AwsError):
    """Input that breaks the model's constraints (required, type, range, length, pattern, enum)."""

    def __init__(self, message: str, code: str = "ValidationException") -> None:
        super().__init__(code, message, 400)


class UnknownOperation(AwsError):
    def __init__(self, code: str = "UnknownOperationException", message: str = "") -> None:
        super().__init__(code, message, 400)


class ServiceUnavailable(AwsError):
    """A passing condition (storage full or locked): SDKs retry a 503 with this code."""

    def __init__(self, message: str = "The service is unavailable. Please retry the request.") -> None:
        super().__init__("ServiceUnavailable", message, 503, sender_fault=False)


class InternalFailure(AwsError):
    def __init__(self, message: str = "We encountered an internal error. Please try again.") -> None:
        super().__init__("InternalFailure", message, 500, sender_fault=False)

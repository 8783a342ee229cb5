"""Services that moved from the query protocol to JSON or CBOR keep their query-era error codes.

Such a model carries `awsQueryCompatible`; its error shapes name their old code (`error.code`). The
body's `__type` names the error *shape*, and the `x-amzn-query-error: <code>;<Sender|Receiver>`
header carries the old code, which botocore (and the other SDKs) report as the error's code.
"""

from __future__ import annotations

from botocore.model import OperationModel, ServiceModel

from eventyard.protocol.errors import AwsError


class QueryCompatibility:
    def __init__(self, model: ServiceModel) -> None:
        self._shape_by_code: dict[str, str] = {}
        for name in model.shape_names:
            shape = model.shape_for(name)
            if shape.metadata.get("exception"):
                code = shape.metadata.get("error", {}).get("code", name)
                self._shape_by_code.setdefault(code, name)

    def shape_name(self, code: str, operation: OperationModel | None) -> str:
        """The error shape for a query-era code; the operation's own errors win when codes repeat."""
        if operation is not None:
            for shape in operation.error_shapes:
                if shape.metadata.get("error", {}).get("code", shape.name) == code:
                    return str(shape.name)
        return self._shape_by_code.get(code, code)

    @staticmethod
    def header(error: AwsError) -> str:
        return f"{error.code};{'Sender' if error.sender_fault else 'Receiver'}"

"""SNS speaks the query protocol natively; only its validation dialect differs from the default."""

from __future__ import annotations

from functools import partial

from eventyard.protocol.models import service_model
from eventyard.protocol.query_protocol import QueryProtocol
from eventyard.services.sns.errors import violations_error

_SCALARS = {"string", "integer", "long", "boolean", "double", "float"}


class SnsQueryProtocol(QueryProtocol):
    def __init__(self) -> None:
        model = service_model("sns")
        # Top-level members of a scalar type, which SNS itself (not the model front end) checks.
        scalars = frozenset(
            name
            for operation in model.operation_names
            if (shape := model.operation_model(operation).input_shape) is not None
            for name, member in shape.members.items()
            if member.type_name in _SCALARS
        )
        super().__init__(model, on_violations=partial(violations_error, scalar_members=scalars))

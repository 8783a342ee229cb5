"""SNS speaks the query protocol natively; only its validation dialect differs from the default."""

from __future__ import annotations

from eventyard.protocol.models import service_model
from eventyard.protocol.query_protocol import QueryProtocol
from eventyard.services.sns.errors import violations_error


class SnsQueryProtocol(QueryProtocol):
    def __init__(self) -> None:
        super().__init__(service_model("sns"), on_violations=violations_error)

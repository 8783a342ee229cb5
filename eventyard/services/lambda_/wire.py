"""Lambda's rest-json protocol: the front end's validation sees the whole input, because Lambda reports
a bad list member or map entry at the list or map, printing all of it (errors.in_context)."""

from __future__ import annotations

from typing import Any

from botocore.model import StructureShape

from eventyard.protocol.rest_json import RestJsonProtocol
from eventyard.protocol.validation import ViolationHandler
from eventyard.services.lambda_.errors import in_context


class LambdaRestJson(RestJsonProtocol):
    def violation_handler(self, shape: StructureShape, params: dict[str, Any]) -> ViolationHandler:
        return in_context(shape, params)

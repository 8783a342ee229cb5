"""Lambda's rest-json protocol: the front end's validation sees the whole input, because Lambda reports
a bad list member or map entry at the list or map, printing all of it (errors.in_context)."""

from __future__ import annotations

from eventyard.protocol.base import HttpRequest, ParsedRequest
from eventyard.protocol.errors import UnknownOperation
from eventyard.protocol.json_documents import may_hold_lone_surrogates
from eventyard.protocol.rest_json import RestJsonProtocol
from eventyard.protocol.validation import enforce
from eventyard.services.lambda_.errors import in_context


class LambdaRestJson(RestJsonProtocol):
    def parse(self, request: HttpRequest) -> ParsedRequest:
        found = self._find(request)
        if found is None:
            raise UnknownOperation(message=f"No operation matches {request.method} {request.path}.")
        route, labels = found
        operation = route.operation
        shape = operation.input_shape
        if shape is None:
            return ParsedRequest(operation, {})
        params = self._read_request(shape, request, labels)
        enforce(shape, params, in_context(shape, params), check_unicode=may_hold_lone_surrogates(request.body))
        return ParsedRequest(operation, params)

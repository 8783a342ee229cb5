"""Every operation of every served model, with inputs generated from its shapes and serialized by
botocore as SDKs do, answers without a 5xx, a hang or a dropped connection."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ_SETTINGS, FuzzTarget, operation_cases
from tests.fuzz.shapes import input_strategy
from tests.fuzz.wire import check_answer, send, serialized, sign, signing_name


@pytest.mark.parametrize("service,protocol,operation", operation_cases())
def test_generated_inputs_never_earn_a_5xx(fuzz_target: FuzzTarget, service: str, protocol: str,
                                           operation: str) -> None:
    model = fuzz_target.model(service, protocol)
    operation_model = model.operation_model(operation)
    streams = operation_model.has_event_stream_output

    @FUZZ_SETTINGS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        params = data.draw(input_strategy(operation_model.input_shape, fuzz_target.identifiers), label="params")
        try:
            request = serialized(model, protocol, operation_model, params)
        except (ValueError, TypeError, KeyError, AttributeError):  # botocore refuses to put it on the wire
            assume(False)
            return
        request = sign(request, fuzz_target.server.url, signing_name(model))
        check_answer(send(fuzz_target.server.port, request, event_stream=streams), request)

    run()

"""AWS Step Functions over JSON 1.0 (`AWSStepFunctions.*`, signed as `states`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.json_protocol import JsonProtocol
from eventyard.protocol.models import service_model
from eventyard.services.base import Service
from eventyard.services.stepfunctions.provider import StepFunctionsProvider
from eventyard.services.stepfunctions.schema import MIGRATIONS
from eventyard.services.stepfunctions.wire_errors import on_violations

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    return Service(
        name="stepfunctions",
        signing_name="states",
        target_prefix="AWSStepFunctions",
        provider=StepFunctionsProvider(platform),
        protocols=[JsonProtocol(service_model("stepfunctions"), on_violations=on_violations)],
        migrations=MIGRATIONS,
    )

"""Amazon EventBridge Pipes (`pipes`, rest-json): point-to-point integrations from an SQS queue or a
Kinesis stream, through filters and an optional enrichment, to a target."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.models import service_model
from eventyard.protocol.rest_json import RestJsonProtocol
from eventyard.services.base import Service
from eventyard.services.pipes.errors import violations_error
from eventyard.services.pipes.provider import PipesProvider
from eventyard.services.pipes.schema import MIGRATIONS

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    return Service(
        name="pipes",
        signing_name="pipes",
        target_prefix=None,
        provider=PipesProvider(platform),
        protocols=[RestJsonProtocol(service_model("pipes"), on_violations=violations_error)],
        migrations=MIGRATIONS,
    )

"""Amazon EventBridge Schema Registry (`schemas`, rest-json): registries, versioned OpenAPI 3 and JSON
Schema Draft 4 schemas, discovery from live bus traffic, code bindings, and (beyond AWS) opt-in
validation of PutEvents entries against a registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.models import service_model
from eventyard.protocol.rest_json import RestJsonProtocol
from eventyard.services.base import Service
from eventyard.services.schemas.errors import violations_error
from eventyard.services.schemas.provider import SchemasProvider
from eventyard.services.schemas.schema import MIGRATIONS

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    return Service(
        name="schemas",
        signing_name="schemas",
        target_prefix=None,
        provider=SchemasProvider(platform),
        protocols=[RestJsonProtocol(service_model("schemas"), on_violations=violations_error)],
        migrations=MIGRATIONS,
    )

"""Amazon EventBridge Schema Registry (`schemas`, rest-json): registries, versioned OpenAPI 3 and JSON
Schema Draft 4 schemas, discovery from live bus traffic, code bindings, and (beyond AWS) opt-in
validation of PutEvents entries against a registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.models import service_model
from eventyard.protocol.rest_json import RestJsonProtocol
from eventyard.runtime.ports import PUT_EVENTS_HOOK
from eventyard.services.base import Service
from eventyard.services.schemas.errors import violations_error
from eventyard.services.schemas.provider import SchemasProvider
from eventyard.services.schemas.schema import MIGRATIONS

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    provider = SchemasProvider(platform)
    platform.ports.provide(PUT_EVENTS_HOOK, provider.intake)  # EventBridge's PutEvents asks the registry
    return Service(
        name="schemas",
        signing_name="schemas",
        target_prefix=None,
        provider=provider,
        protocols=[RestJsonProtocol(service_model("schemas"), on_violations=violations_error)],
        migrations=MIGRATIONS,
    )

"""Amazon EventBridge (`events`, JSON 1.1): buses, rules, targets, archives, replays, API destinations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.json_protocol import JsonProtocol
from eventyard.protocol.models import service_model
from eventyard.services.base import Service
from eventyard.services.events import ports
from eventyard.services.events.ingest import violations_error
from eventyard.services.events.provider import EventsProvider
from eventyard.services.events.schema import MIGRATIONS

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    provider = EventsProvider(platform)
    ports.provide(platform, provider)
    return Service(
        name="events",
        signing_name="events",
        target_prefix="AWSEvents",
        provider=provider,
        protocols=[JsonProtocol(service_model("events"), on_violations=violations_error)],
        migrations=MIGRATIONS,
    )

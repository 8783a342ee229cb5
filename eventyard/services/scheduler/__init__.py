"""Amazon EventBridge Scheduler (`scheduler`, rest-json): schedule groups and one-time or recurring
schedules that invoke targets, fired from durable timers and delivered through EventBridge's target
delivery (the TARGET_DELIVERY port)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.models import service_model
from eventyard.protocol.rest_json import RestJsonProtocol
from eventyard.services.base import Service
from eventyard.services.scheduler.provider import SchedulerProvider
from eventyard.services.scheduler.schema import MIGRATIONS

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    return Service(
        name="scheduler",
        signing_name="scheduler",
        target_prefix=None,
        provider=SchedulerProvider(platform),
        protocols=[RestJsonProtocol(service_model("scheduler"))],
        migrations=MIGRATIONS,
    )

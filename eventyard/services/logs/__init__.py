"""CloudWatch Logs (JSON 1.1, `Logs_20140328`): groups, streams and events, metric and subscription filters,
Logs Insights queries, retention and tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.models import service_model
from eventyard.services.base import Service
from eventyard.services.logs import agent
from eventyard.services.logs.monitoring_schema import MIGRATIONS as MONITORING_MIGRATIONS
from eventyard.services.logs.provider import LogsProvider
from eventyard.services.logs.schema import MIGRATIONS
from eventyard.services.logs.wire import LogsJsonProtocol

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    agent.provide(platform)  # Lambda's log agent writes through it
    return Service(
        name="logs",
        signing_name="logs",
        target_prefix="Logs_20140328",
        provider=LogsProvider(platform),
        protocols=[LogsJsonProtocol(service_model("logs"))],
        migrations=[*MIGRATIONS, *MONITORING_MIGRATIONS],
    )

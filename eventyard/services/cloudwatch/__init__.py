"""Amazon CloudWatch (botocore's `cloudwatch` model) over its three protocols: metrics, alarms with
actions, dashboards and tags. Services' own metrics arrive through `runtime/metrics.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.services.base import Service
from eventyard.services.cloudwatch.provider import CloudWatchProvider
from eventyard.services.cloudwatch.schema import MIGRATIONS
from eventyard.services.cloudwatch.wire import protocols

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    return Service(
        name="cloudwatch",
        signing_name="monitoring",
        target_prefix="GraniteServiceVersion20100801",
        provider=CloudWatchProvider(platform),
        protocols=protocols(),  # type: ignore[arg-type]
        migrations=MIGRATIONS,
    )

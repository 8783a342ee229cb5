"""Amazon SQS over both its wire protocols: JSON 1.0 (current SDKs) and query (older SDKs, forms)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.services.base import Service
from eventyard.services.sqs.provider import SqsProvider
from eventyard.services.sqs.schema import MIGRATIONS
from eventyard.services.sqs.sends import provide
from eventyard.services.sqs.wire import SqsJsonProtocol, SqsQueryJsonProtocol, SqsQueryProtocol

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    provider = SqsProvider(platform)
    provide(platform, provider)  # QUEUE_SENDS: SNS's deliveries in its publish transaction
    return Service(
        name="sqs",
        signing_name="sqs",
        target_prefix="AmazonSQS",
        provider=provider,
        # The query API answered as JSON is chosen by its Accept header (SqsQueryJsonProtocol.accepts).
        protocols=[SqsJsonProtocol(), SqsQueryJsonProtocol(), SqsQueryProtocol()],
        migrations=MIGRATIONS,
    )

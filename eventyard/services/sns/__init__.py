"""Amazon SNS over its native query protocol: topics, subscriptions, durable filtered fan-out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.services.base import Service
from eventyard.services.sns import filters, mobile_schema, signing
from eventyard.services.sns.provider import SnsProvider
from eventyard.services.sns.schema import MIGRATIONS
from eventyard.services.sns.wire import SnsQueryProtocol

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    return Service(
        name="sns",
        signing_name="sns",
        target_prefix=None,
        provider=SnsProvider(platform),
        protocols=[SnsQueryProtocol()],
        migrations=[*MIGRATIONS, *mobile_schema.MIGRATIONS, *filters.MIGRATIONS, *signing.MIGRATIONS],
        unsigned_operations=frozenset({"ConfirmSubscription", "Unsubscribe"}),
    )

"""Amazon Kinesis Data Streams (JSON 1.1): durable shards, ordered records, resharding, enhanced fan-out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.amz_cbor import AmzCborProtocol
from eventyard.protocol.models import service_model
from eventyard.services.base import Service
from eventyard.services.kinesis.provider import KinesisProvider
from eventyard.services.kinesis.schema import MIGRATIONS
from eventyard.services.kinesis.wire import KinesisJsonProtocol

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    return Service(
        name="kinesis",
        signing_name="kinesis",
        target_prefix="Kinesis_20131202",
        provider=KinesisProvider(platform),
        # The SDKs for Java send `application/x-amz-cbor-1.1`; the others send JSON 1.1.
        protocols=[KinesisJsonProtocol(), AmzCborProtocol(service_model("kinesis"))],
        migrations=MIGRATIONS,
    )

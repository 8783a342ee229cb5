"""AWS STS: GetCallerIdentity (the first call of most tools), AssumeRole and GetSessionToken."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.models import service_model
from eventyard.protocol.query_protocol import QueryProtocol
from eventyard.services.base import Service
from eventyard.services.iam.errors import violations_error
from eventyard.services.sts.provider import StsProvider
from eventyard.services.sts.schema import MIGRATIONS

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    return Service(
        name="sts",
        signing_name="sts",
        target_prefix=None,
        provider=StsProvider(platform),
        protocols=[QueryProtocol(service_model("sts"), on_violations=violations_error)],
        migrations=MIGRATIONS,
    )

"""AWS IAM: the roles, policies, users and access keys that tools create before anything else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.models import service_model
from eventyard.protocol.query_protocol import QueryProtocol
from eventyard.services.base import Service
from eventyard.services.iam import identities
from eventyard.services.iam.errors import violations_error
from eventyard.services.iam.provider import IamProvider
from eventyard.services.iam.schema import MIGRATIONS

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    identities.provide(platform)  # STS reads users, keys and roles through it
    return Service(
        name="iam",
        signing_name="iam",
        target_prefix=None,
        provider=IamProvider(platform),
        protocols=[QueryProtocol(service_model("iam"), on_violations=violations_error)],
        migrations=MIGRATIONS,
    )

"""The services this server runs. A new service adds its package name here."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eventyard.server.platform import ServiceFactory

# Each package exposes `create_service(platform) -> Service`.
SERVICE_PACKAGES = [
    "sqs",
    "stepfunctions",
    "sns",
    "events",
    "scheduler",
    "kinesis",
    "logs",
    "lambda_",
    "iam",
    "sts",
    "pipes",
    "schemas",
    "cloudwatch",
]


def service_factories() -> list[ServiceFactory]:
    return [importlib.import_module(f"eventyard.services.{name}").create_service for name in SERVICE_PACKAGES]

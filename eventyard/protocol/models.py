"""botocore's service models: the only source of wire truth."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any

import botocore.loaders
from botocore.model import ServiceModel


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@cache
def raw_service_model(service_name: str) -> dict[str, Any]:
    return _loader().load_service_model(service_name, "service-2")  # type: ignore[no-any-return]


@cache
def service_model(service_name: str) -> ServiceModel:
    return ServiceModel(raw_service_model(service_name), service_name=service_name)


def patched_service_model(service_name: str, patch: Callable[[dict[str, Any]], None]) -> ServiceModel:
    """A copy of a service's model with extra traits (e.g. a protocol the current model dropped)."""
    raw = copy.deepcopy(raw_service_model(service_name))
    patch(raw)
    return ServiceModel(raw, service_name=service_name)

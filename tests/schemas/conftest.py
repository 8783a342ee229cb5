"""Helpers for Schema Registry tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def schemas(server: Any) -> Any:
    return server.client("schemas")


@pytest.fixture
def events(server: Any) -> Any:
    return server.client("events")

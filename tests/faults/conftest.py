"""A server of this package's own: fault rules apply to a whole server, so they must not leak into
the session's shared one. Each test starts with no rules."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess


def faults_request(server: ServerProcess, method: str, document: Any = None) -> tuple[int, Any]:
    body = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(f"{server.url}/_eventyard/faults", data=body, method=method,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def set_faults(server: ServerProcess, rules: list[dict[str, Any]], seed: int = 7) -> dict[str, Any]:
    status, answer = faults_request(server, "PUT", {"seed": seed, "rules": rules})
    assert status == 200, answer
    return dict(answer)


def fault_counts(server: ServerProcess) -> list[tuple[int, int]]:
    status, answer = faults_request(server, "GET")
    assert status == 200
    return [(rule["matched"], rule["fired"]) for rule in answer["rules"]]


@pytest.fixture(scope="package")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(Path(tmp_path_factory.mktemp("faults")) / "data").start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _no_rules_left(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "faulty" in request.fixturenames:
        faults_request(request.getfixturevalue("faulty"), "DELETE")

"""Where the shared conformance corpus is: `EVENTYARD_CONFORMANCE_DIR`, else `../shared/conformance`
beside the repository. It is not part of the repository, so a developer without it gets a skip with
the reason, while CI (which sets EVENTYARD_REQUIRE_CONFORMANCE=1) fails loudly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


# Beside the clone (CI and developers' checkouts), then where this workplace keeps it.
CANDIDATES = [REPO.parent / "shared" / "conformance", Path("/work/shared/conformance")]


def conformance_dir() -> Path:
    configured = os.environ.get("EVENTYARD_CONFORMANCE_DIR")
    candidates = [Path(configured)] if configured else CANDIDATES
    for path in candidates:
        if path.is_dir():
            return path
    reason = f"conformance corpus not found at {', '.join(map(str, candidates))} (set EVENTYARD_CONFORMANCE_DIR)"
    if os.environ.get("EVENTYARD_REQUIRE_CONFORMANCE") == "1":
        pytest.fail(reason)
    pytest.skip(reason)

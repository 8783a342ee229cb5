"""A real browser for the console's tests: Debian's chromium driven through chromedriver (selenium).

The suite installs them itself where they are missing (`apt-get install chromium chromium-driver`,
as root), so `make test` works on a fresh machine. Only where no browser can be installed (not
root, no apt-get) are the browser tests skipped, with the reason — never in CI (`CI` set) or when
`EVENTYARD_REQUIRE_BROWSER` is set: there a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests import debian_packages

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000"]


def browser_required() -> bool:
    return debian_packages.required() or bool(os.environ.get("EVENTYARD_REQUIRE_BROWSER"))


def _installed() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def ensure_browser() -> str | None:
    """Install chromium and chromedriver if missing; None when ready, else why not."""
    return debian_packages.ensure(["chromium", "chromium-driver"], _installed)


def start_driver(profile: str) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*LAUNCH_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = ensure_browser()
    if problem is not None:
        if browser_required():
            pytest.fail(f"a browser is required here (CI / EVENTYARD_REQUIRE_BROWSER) but: {problem}")
        pytest.skip(f"no browser for the console tests: {problem}")
    profile = tempfile.mkdtemp(prefix="eventyard-chromium-")
    driver = start_driver(profile)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

"""The console ships inside the wheel: every template and static file is package data, and the
vendored htmx is npm's file, unmodified, next to its license."""

from __future__ import annotations

import hashlib
import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "eventyard" / "console"
# sha256 of dist/htmx.min.js in the npm package htmx.org@2.0.11
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_every_template_and_static_file_is_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["eventyard.console"]
    files = [p.relative_to(CONSOLE).as_posix() for p in CONSOLE.rglob("*")
             if p.is_file() and p.parent.name in {"templates", "fragments", "static"}]
    assert files
    for name in files:
        assert any(fnmatch(name, pattern) for pattern in globs), name


def test_the_vendored_htmx_is_unmodified_and_licensed() -> None:
    assert hashlib.sha256((CONSOLE / "static" / "htmx.min.js").read_bytes()).hexdigest() == HTMX_SHA256
    assert "Zero-Clause BSD" in (CONSOLE / "static" / "htmx.LICENSE").read_text()


def test_every_console_package_has_its_init() -> None:
    for folder in (CONSOLE, CONSOLE / "pages", CONSOLE / "graph"):
        assert (folder / "__init__.py").is_file(), folder  # packages.find skips folders without one

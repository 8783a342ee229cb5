"""The AWS SDK a Python function can import without bundling it, as AWS's managed Python runtimes ship
boto3 and botocore in /var/runtime (on sys.path after the task root and the layers).

A function running on the server's own Python already sees the server's packages. One running on
another interpreter (the declared `python3.x` from the host, see interpreters.py) sees only that
interpreter's site-packages, which need not hold boto3: for those, the server offers its own SDK
packages (pure Python) in one folder of links, placed last on PYTHONPATH, so a boto3 bundled with the
function or a layer still wins, as in AWS.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

# boto3 and what it imports (botocore's own requirements included): all pure Python.
SDK_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
SDK_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


def oldest_python() -> tuple[int, int]:
    """The oldest Python every SDK package supports (their Requires-Python `>=` bounds)."""
    oldest = (3, 0)
    for name in SDK_DISTRIBUTIONS:
        try:
            requires = importlib.metadata.metadata(name)["Requires-Python"] or ""
        except importlib.metadata.PackageNotFoundError:
            continue
        for bound in re.findall(r">=\s*(\d+)\.(\d+)", requires):
            oldest = max(oldest, (int(bound[0]), int(bound[1])))
    return oldest


def _origin(module: str) -> Path | None:
    """The package folder (or module file) the server would import for `module`."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    return origin.parent if origin.name == "__init__.py" else origin


def build(folder: Path) -> Path | None:
    """Link the server's SDK packages into `folder` (once); None when the server has no boto3."""
    if _origin("boto3") is None:
        log.warning("boto3 is not installed with the server: Python functions on other interpreters "
                    "cannot import it unless they bundle it")
        return None
    folder.mkdir(parents=True, exist_ok=True)
    for module in SDK_MODULES:
        origin = _origin(module)
        if origin is None:
            continue
        link = folder / origin.name
        if link.is_symlink() and os.readlink(link) == str(origin):
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        try:
            link.symlink_to(origin, target_is_directory=origin.is_dir())
        except FileExistsError:  # another node sharing the folder made it meanwhile
            pass
    return folder


class PythonSdk:
    """The folder, built on first use (the pool owns one)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._built: Path | None = None
        self._tried = False
        self._refused: set[str] = set()  # versions the SDK was refused to (said once each)

    def path_for(self, minor: str) -> str | None:
        """The folder for an interpreter of version `minor` ("3.9"), None when the SDK does not support it
        (the function then finds no boto3, as it would not in a runtime without one)."""
        version = tuple(int(part) for part in minor.split(".")[:2])
        if version < oldest_python():
            if minor not in self._refused:
                self._refused.add(minor)
                log.warning("python%s functions: the server's boto3 needs Python %d.%d or later; bundle boto3 "
                            "with the function or install it into that interpreter", minor, *oldest_python())
            return None
        return self.path()

    def path(self) -> str | None:
        if not self._tried:
            self._tried = True
            try:
                self._built = build(self.folder)
            except OSError as exc:
                log.warning("could not prepare the Python SDK folder %s: %s", self.folder, exc)
        return str(self._built) if self._built else None

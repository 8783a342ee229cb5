"""A second Python for the tests of `python3.x` functions on their declared interpreter: a venv made
from another Python version the machine has (pyenv's, or Debian's python3.x), with AWS's runtime
client installed from PyPI, behind a `python3.x` wrapper in a folder the test server gets on its PATH
(the way an operator adds interpreters, see docs/lambda.md)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path


def candidates() -> list[str]:
    """Interpreters of another minor version than the server's, newest first (3.10 and later: the
    server's boto3 needs 3.10)."""
    own = sys.version_info[:2]
    found: list[str] = []
    for minor in (13, 12, 10):
        if (3, minor) == own:
            continue
        found += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/3.{minor}.*/bin/python3.{minor}")),
                        reverse=True)
        system = shutil.which(f"python3.{minor}", path="/usr/bin:/usr/local/bin")
        if system:
            found.append(system)
    return found


def prepare(folder: Path) -> tuple[str, Path] | None:
    """(`python3.x`, a folder holding that wrapper) for the first candidate that can take awslambdaric;
    None when the machine has no other Python or none could install it."""
    for interpreter in candidates():
        minor = ".".join(interpreter.rsplit("python", 1)[1].split(".")[:2])
        venv = folder / f"venv{minor}"
        made = subprocess.run([interpreter, "-m", "venv", str(venv)], capture_output=True)
        if made.returncode != 0:
            continue
        installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "awslambdaric"],
                                   capture_output=True, timeout=600)
        if installed.returncode != 0:
            continue
        bin_dir = folder / "bin"
        bin_dir.mkdir(exist_ok=True)
        wrapper = bin_dir / f"python{minor}"
        wrapper.write_text(f'#!/bin/sh\nexec {venv / "bin" / "python"} "$@"\n')
        wrapper.chmod(0o755)
        return f"python{minor}", bin_dir
    return None

"""Debian packages a test needs, installed by the suite itself where they are missing (as root, with
apt-get), so `make test` works on a fresh machine: Chromium for the console's browser tests, Ruby for
Lambda's ruby runtimes."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable


def required() -> bool:
    """In CI (`CI` set) a missing package fails the run instead of skipping its tests."""
    return bool(os.environ.get("CI"))


def ensure(packages: list[str], installed: Callable[[], bool]) -> str | None:
    """Install `packages` unless `installed()` already holds; None when ready, else why not."""
    if installed():
        return None
    names = " ".join(packages)
    if shutil.which("apt-get") is None:
        return f"{names} not installed and this machine has no apt-get to install it"
    if os.geteuid() != 0:
        return f"{names} not installed and installing needs root (apt-get install {names})"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    install = ["apt-get", *lock, "install", "-y", "-q", "--no-install-recommends", *packages]
    # The package lists may be stale or absent on a fresh machine: update once, then retry.
    for commands in ([install], [["apt-get", *lock, "update", "-q"], install]):
        for command in commands:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                problem = f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}"
                break
        else:
            problem = None
        if problem is None and installed():
            return None
    return problem or f"apt-get ran but {names} is still missing"

"""Which Python runs a `python3.x` function: the declared version when the host has it with AWS's
runtime client (awslambdaric) importable, else the server's own Python; the reason is logged once
(GetFunction's RuntimeVersionConfig keeps AWS's shape, which has no room for it).

The candidate is `python3.x` on the PATH. It is run once (per server, per runtime) with a probe that
imports awslambdaric and prints the interpreter's version, because a name on the PATH is not proof:
pyenv shims, for one, exist for versions that are not selected and fail when run.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import sysconfig
from dataclasses import dataclass

log = logging.getLogger(__name__)
# The version, whether the interpreter has its own boto3 (else python_sdk.py offers the server's), and
# its standard library's folder (shown as AWS's /var/lang/lib/python3.x in stack traces).
PROBE = ("import sys, sysconfig, importlib.util, awslambdaric; "
         "print('%d.%d.%d' % sys.version_info[:3], importlib.util.find_spec('boto3') is not None, "
         "sysconfig.get_paths()['stdlib'])")
PROBE_TIMEOUT = 15.0


@dataclass(frozen=True)
class PythonChoice:
    executable: str
    version: str  # the full version of `executable`, e.g. "3.11.7"
    fallback_reason: str | None = None  # why the declared version is not the one that runs
    has_sdk: bool = True  # boto3 importable from the interpreter's own site-packages
    stdlib: str | None = None  # its standard library's folder

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def own_version() -> str:
    return "%d.%d.%d" % sys.version_info[:3]


def own_choice(fallback_reason: str | None = None) -> PythonChoice:
    """The server's own Python (the declared version's, or the fallback for `fallback_reason`)."""
    return PythonChoice(sys.executable, own_version(), fallback_reason, stdlib=sysconfig.get_paths()["stdlib"])


class Interpreters:
    """Probe results, kept for the server's lifetime (the provider owns one)."""

    def __init__(self) -> None:
        self._choices: dict[str, PythonChoice] = {}
        self._lock = asyncio.Lock()

    async def python(self, runtime: str) -> PythonChoice:
        async with self._lock:
            if runtime not in self._choices:
                choice = await choose(runtime)
                if choice.fallback_reason:  # said once per runtime, in the server's log
                    log.warning("%s functions: %s", runtime, choice.fallback_reason)
                self._choices[runtime] = choice
            return self._choices[runtime]


async def choose(runtime: str) -> PythonChoice:
    declared = runtime.removeprefix("python")
    own = own_version()
    if own.startswith(declared + ".") or own == declared:
        return own_choice()
    fallback = f"the function runs on the server's Python {own} ({sys.executable})"
    candidate = shutil.which(f"python{declared}")
    if candidate is None:
        return own_choice(f"No python{declared} interpreter on the host: {fallback}.")
    try:
        process = await asyncio.create_subprocess_exec(
            candidate, "-c", PROBE, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            return own_choice(f"{candidate} did not answer in time: {fallback}.")
    except OSError as exc:
        return own_choice(f"{candidate} could not be run ({exc}): {fallback}.")
    answer = out.decode(errors="replace").strip().split(None, 2)
    version = answer[0] if answer else ""
    if process.returncode != 0:
        detail = err.decode(errors="replace").strip().splitlines()
        missing = "awslambdaric" in err.decode(errors="replace")
        why = "cannot import awslambdaric" if missing else "failed"
        # The import error is the traceback's last line; other failures (a pyenv shim) say it first.
        line = (detail[-1] if missing else detail[0]).strip() if detail else f"exit status {process.returncode}"
        return own_choice(f"{candidate} {why} ({line}): {fallback}.")
    if not (version.startswith(declared + ".") or version == declared):
        return own_choice(f"{candidate} is Python {version}, not {declared}: {fallback}.")
    return PythonChoice(candidate, version, has_sdk=answer[1:2] == ["True"],
                        stdlib=answer[2] if len(answer) > 2 else None)

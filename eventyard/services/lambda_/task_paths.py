"""What leaves a function's sandbox names AWS's paths: the task root as /var/task, layers as /opt
(and a Python runtime's standard library and SDK as /var/lang/lib/python3.x and /var/runtime).

A worker runs its code where Eventyard keeps it, under the data directory (or the local-directory
mode's folder): there is no root-owned /var/task to mount it at, and no mount namespace per worker
without privileges. Loading modules under a pretend /var/task would break every handler that opens
a file next to its own `__file__`. So the server rewrites the real paths where a user reads them:
the log lines a worker prints and the error documents (stack traces) its runtime reports. Inside
the function, `__file__` and `os.getcwd()` still name the real folder.
"""

from __future__ import annotations

import json
import os

TASK_ROOT = "/var/task"
LAYERS_ROOT = "/opt"


class TaskPaths:
    def __init__(self, task_root: str, layers_root: str | None = None,
                 runtime_paths: dict[str, str] | None = None) -> None:
        """`runtime_paths`: more folders shown by their AWS names in what leaves the sandbox (the
        interpreter's standard library as /var/lang/lib/python3.x, the runtime's SDK as /var/runtime)."""
        pairs: list[tuple[str, str]] = []
        named = [(task_root, TASK_ROOT), (layers_root, LAYERS_ROOT), *(runtime_paths or {}).items()]
        for real, alias in named:
            if real:
                for spelling in {real.rstrip("/"), os.path.realpath(real)}:
                    pairs.append((spelling, alias))
        # Longest first, so a layer folder inside the task root is not half-replaced.
        self._pairs = sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)
        self._roots = {alias: real.rstrip("/") for real, alias in ((task_root, TASK_ROOT), (layers_root, LAYERS_ROOT))
                       if real}

    def real(self, path: str) -> str:
        """The real file a path inside the sandbox names (`/var/task/x` -> the task root's `x`)."""
        for alias, real in self._roots.items():
            if path == alias or path.startswith(alias + "/"):
                return real + path[len(alias):]
        return path

    def text(self, line: str) -> str:
        for real, alias in self._pairs:
            if real in line:
                line = line.replace(real, alias)
        return line

    def document(self, body: bytes) -> bytes:
        """A JSON error document with the paths rewritten inside its strings (as JSON escapes them)."""
        for real, alias in self._pairs:
            escaped = json.dumps(real)[1:-1].encode()
            if escaped in body:
                body = body.replace(escaped, json.dumps(alias)[1:-1].encode())
        return body

"""The AWS SDK a Node.js function can require without bundling it. AWS's nodejs18.x and later
runtimes ship the AWS SDK for JavaScript v3 in /var/runtime/node_modules, last on NODE_PATH; many
functions rely on it. Eventyard offers the host's global node_modules in that place, so
`npm install -g @aws-sdk/client-sqs` (or the whole SDK) on the host makes `@aws-sdk/*` requirable,
and a copy bundled with the function or a layer still wins, as on AWS.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path


@functools.cache
def global_modules() -> tuple[str, ...]:
    """The host's global node_modules folders that exist: npm's prefix (`npm_config_prefix`, else
    /usr/local, npm's default) and the folder beside the node binary's own prefix (Debian's /usr)."""
    candidates: list[Path] = []
    prefix = os.environ.get("npm_config_prefix") or os.environ.get("NPM_CONFIG_PREFIX")
    candidates.append(Path(prefix or "/usr/local") / "lib" / "node_modules")
    node = shutil.which("node")
    if node is not None:
        candidates.append(Path(node).resolve().parent.parent / "lib" / "node_modules")
    found: list[str] = []
    for folder in candidates:
        if folder.is_dir() and str(folder) not in found:
            found.append(str(folder))
    return tuple(found)


def node_path(task_root: str, layers: str) -> str:
    """NODE_PATH for a Node.js function: a layer's nodejs/node_modules, the task root, then the SDK."""
    paths = [f"{layers}/nodejs/node_modules"] * bool(layers) + [task_root, *global_modules()]
    return ":".join(paths)

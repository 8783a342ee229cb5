"""Install the AWS CLI v1 (`awscli` from PyPI) into a virtualenv of its own, once.

It gets its own environment because each awscli release pins (recent ones vendor, as
`awscli.botocore`) the exact botocore it runs on; the tests' environment keeps its own botocore. Nothing of it is committed.

    python tests/tools/install_awscli.py .venv/awscli-v1
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path


def install_awscli(target: Path) -> Path:
    """The path of the `aws` command in `target`, installing it there first if it is missing."""
    command = target / "bin" / "aws"
    if command.exists():
        return command
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    subprocess.run([str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "awscli>=1.36"], check=True,
                   timeout=600)
    return command


def protocol_used(target: Path) -> str:
    """The protocol the installed CLI's botocore picks for CloudWatch."""
    script = ("try:\n import awscli.botocore.session as s\nexcept ImportError:\n import botocore.session as s\n"
              "print(s.get_session().get_service_model('cloudwatch').resolved_protocol)")
    return subprocess.run([str(target / "bin" / "python"), "-c", script], capture_output=True, text=True,
                          check=True).stdout.strip()


if __name__ == "__main__":
    print(install_awscli(Path(sys.argv[1])))

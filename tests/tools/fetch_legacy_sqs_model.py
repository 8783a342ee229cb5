"""Fetch the SQS model of botocore 1.29 (the last that spoke SQS's query protocol) from PyPI.

The tests load it into a botocore client to act as an older SDK; nothing of it is committed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "1.29.100"
MEMBER = "botocore/data/sqs/2012-11-05/service-2.json"


def main(target: str) -> None:
    destination = Path(target) / "sqs" / "2012-11-05" / "service-2.json"
    if destination.exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
             "-d", tmp, f"botocore=={VERSION}"],
            check=True,
        )
        wheel = next(Path(tmp).glob("botocore-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(MEMBER)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)


if __name__ == "__main__":
    main(sys.argv[1])

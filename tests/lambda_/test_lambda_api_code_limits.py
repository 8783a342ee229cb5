"""A deployment package over AWS's limits is refused as AWS refuses it: the zip's own size first
(50 MB, RequestEntityTooLargeException 413), then what it unpacks to (250 MB, judged from the zip's
directory, so a zip bomb is refused before anything is written)."""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any

from tests.lambda_.conftest import ROLE, error_response


def _zip(name: str, content: bytes, method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_over_50_mb_is_too_large(lam: Any, unique: str) -> None:
    package = _zip("blob.bin", os.urandom(52_428_800), zipfile.ZIP_STORED)  # incompressible: just over 50 MB
    answer = error_response(lam.create_function, FunctionName=f"big-{unique}", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": package})
    assert answer["Error"] == {"Code": "RequestEntityTooLargeException",
                               "Message": "Zipped size must be smaller than 52428800 bytes"}
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_a_zip_unpacking_past_250_mb_is_refused_before_it_is_written(lam: Any, unique: str) -> None:
    bomb = _zip("zeros.bin", bytes(262_144_001), zipfile.ZIP_DEFLATED)  # a few hundred KB on the wire
    answer = error_response(lam.create_function, FunctionName=f"bomb-{unique}", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": bomb})
    assert answer["Error"] == {"Code": "InvalidParameterValueException",
                               "Message": "Unzipped size must be smaller than 262144000 bytes"}

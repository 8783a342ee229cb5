"""Where function and layer code lives: zips unpacked once per SHA-256 under the data directory, or a
host folder (the local-directory mode) read in place so edits apply on the next cold start."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

from eventyard.protocol.errors import AwsError

# Local-directory mode: Code={"S3Bucket": LOCAL_BUCKET, "S3Key": "/abs/path/to/folder"}.
LOCAL_BUCKET = "eventyard-local"


def _bad_zip() -> AwsError:
    return AwsError("InvalidParameterValueException",
                    "Could not unzip uploaded file. Please check your file, then try to upload again.")


MAX_ZIPPED_BYTES = 52_428_800  # AWS's deployment package limits (GetAccountSettings' CodeSizeZipped/Unzipped)
MAX_UNZIPPED_BYTES = 262_144_000


def _check_zipped(data: bytes) -> None:
    if len(data) > MAX_ZIPPED_BYTES:
        raise AwsError("RequestEntityTooLargeException", f"Zipped size must be smaller than {MAX_ZIPPED_BYTES} bytes",
                       413)


def _check_unzipped(archive: zipfile.ZipFile) -> None:
    # judged from the zip's directory before anything is written: a zip bomb never reaches the disk
    if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
        raise AwsError("InvalidParameterValueException",
                       f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")


def store_zip(root: Path, data: bytes) -> dict[str, Any]:
    """Unpack a zip (idempotently, by content hash); answer the code descriptor kept with the version.
    AWS checks the zip's size first, then what it unpacks to."""
    _check_zipped(data)
    digest = hashlib.sha256(data)
    target = root / digest.hexdigest()
    if not target.exists():
        staging = root / f".{digest.hexdigest()}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                _check_unzipped(archive)
                if not archive.infolist():
                    raise AwsError("InvalidParameterValueException", "Uploaded file must be a non-empty zip")
                for info in archive.infolist():
                    path = archive.extract(info, staging)
                    mode = (info.external_attr >> 16) & 0o777
                    if mode and not info.is_dir():
                        os.chmod(path, mode)
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise _bad_zip() from exc
        os.replace(staging, target) if not target.exists() else shutil.rmtree(staging, ignore_errors=True)
    return {"dir": str(target), "sha256": base64.b64encode(digest.digest()).decode(), "size": len(data)}


def resolve_code(root: Path, code: dict[str, Any], local_root: Path) -> dict[str, Any]:
    """The code descriptor of a CreateFunction/UpdateFunctionCode source. A local directory must lie
    inside `local_root` (EVENTYARD_LAMBDA_CODE_ROOT), links resolved: a client must not make the server
    run, or serve back, any folder of the host (`/etc`)."""
    if code.get("ZipFile") is not None:
        return store_zip(root, code["ZipFile"])
    if code.get("S3Bucket") == LOCAL_BUCKET and code.get("S3Key"):
        folder = Path(code["S3Key"])
        if not folder.is_absolute() or not folder.is_dir():
            raise AwsError("InvalidParameterValueException",
                           f"Local code directory {folder} does not exist or is not an absolute path.")
        if not folder.resolve().is_relative_to(local_root.resolve()):
            raise AwsError("InvalidParameterValueException",
                           f"Local code directory {folder} is outside the folder local code may come from "
                           f"(EVENTYARD_LAMBDA_CODE_ROOT, here {local_root}).")
        digest = hashlib.sha256(str(folder).encode()).digest()
        return {"dir": str(folder), "local": True, "sha256": base64.b64encode(digest).decode(), "size": 0}
    if code.get("ImageUri"):
        raise AwsError("InvalidParameterValueException", "Eventyard runs zip packages only (PackageType Zip).")
    raise AwsError("InvalidParameterValueException",
                   "Please provide a source for function code: Code.ZipFile, or the local-directory mode "
                   f"(S3Bucket '{LOCAL_BUCKET}', S3Key an absolute folder path).")

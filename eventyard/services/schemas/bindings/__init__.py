"""Code bindings: the classes of a schema generated in a language and zipped, as GetCodeBindingSource
returns them. Eventyard generates Python36 and TypeScript3; AWS's other languages (Java8, Go1) are
refused with a BadRequestException that says so."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from eventyard.services.schemas.bindings import python, typescript
from eventyard.services.schemas.bindings.model import classes, package_path

AWS_LANGUAGES = ("Java8", "Python36", "TypeScript3", "Go1")
GENERATORS = {"Python36": python.files, "TypeScript3": typescript.files}


def generate(language: str, document: dict[str, Any], schema_name: str, version: str) -> bytes:
    """The zip of the binding's sources for a JSON Schema Draft 4 document."""
    root, declared = classes(document)
    folder = "/".join(package_path(document, schema_name))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in GENERATORS[language](declared, root, schema_name, version).items():
            archive.writestr(f"{folder}/{name}", text)
    return buffer.getvalue()

"""docs/operations.md does not claim an operation is missing once a provider implements it.

(The page's counts follow the botocore release it was generated with, so they are not compared:
a newer botocore in a fresh environment may add operations.)"""

from __future__ import annotations

import re

from botocore import xform_name

from tests.tools.operations_doc import DOC, providers


def test_operations_listed_as_missing_are_not_implemented() -> None:
    text = DOC.read_text()
    classes = providers()
    listed = 0
    for service, block in re.findall(r"^## (\w+): not implemented\n\n(.+)$", text, flags=re.M):
        for operation in re.findall(r"`(\w+)`", block):
            listed += 1
            assert not hasattr(classes[service], xform_name(operation)), (
                f"{service}.{operation} is implemented now: run `python tests/tools/operations_doc.py`")
    assert listed > 0

"""Fast identifiers: request ids, message ids, receipt tokens.

`uuid.uuid4()` reads os.urandom for every id, and on some sandboxed kernels that system call costs
over 100 µs. Ids here only need to be unique, not secret, so they come from a PRNG seeded once
from the OS.
"""

from __future__ import annotations

import os
import random
import uuid

_random = random.Random(os.urandom(32))


def new_uuid() -> str:
    """A random (version 4) UUID in its canonical text form."""
    return str(uuid.UUID(int=_random.getrandbits(128), version=4))


def new_token(bits: int = 128) -> str:
    return f"{_random.getrandbits(bits):0{bits // 4}x}"

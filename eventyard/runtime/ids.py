"""Fast identifiers: request ids, message ids, receipt tokens.

`uuid.uuid4()` reads os.urandom for every id, and on some sandboxed kernels that system call costs
over 100 µs. Ids here only need to be unique, not secret, so they come from a PRNG seeded once
from the OS.
"""

from __future__ import annotations

import os
import random

_random = random.Random(os.urandom(32))


def _reseed() -> None:
    """A forked worker (`serve --workers`) must not mint the ids its parent's other children mint."""
    _random.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


_VERSION_4 = 0x4000 << 64  # version nibble (bits 76-79) and the RFC 4122 variant (bits 62-63)
_VARIANT = 0x8000 << 48
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))


def new_uuid() -> str:
    """A random (version 4) UUID in its canonical text form."""
    h = f"{(_random.getrandbits(128) & _CLEAR) | _VERSION_4 | _VARIANT:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_token(bits: int = 128) -> str:
    return f"{_random.getrandbits(bits):0{bits // 4}x}"

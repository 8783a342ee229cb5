"""The interpreter tuned for a server: its garbage collector.

Start-up loads botocore's service models and every module: hundreds of thousands of objects that
live as long as the process. Left in the collected generations, every full collection walks them
all again, a stall of tens of milliseconds in the middle of some request (the p99 of a fast call).
Once the server is up they are frozen (`gc.freeze`: never scanned again), and the youngest
generation is collected less often, since a request allocates many short-lived objects that
reference counting frees anyway; cycles are still collected.

Measured here with a few botocore models loaded: a full collection took 40-80 ms, and 0.001 ms
once the heap was frozen.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython's default: 700)


def settle_after_start_up() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)

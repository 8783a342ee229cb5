"""`eventyard serve` under cProfile in every thread, timed by each thread's own CPU clock, so the
profile counts CPU only (a thread preempted by other work on a busy machine adds nothing).
Used by `request_profile.py --cprofile`: SIGUSR1 clears what was counted so far (start-up, set-up), SIGUSR2
writes the merged stats of every thread to the file named by EVENTYARD_CPROFILE_OUT.

    EVENTYARD_CPROFILE_OUT=stats.prof python bench/serve_profiled.py serve --host 127.0.0.1 --port N ...
"""

from __future__ import annotations

import cProfile
import os
import pstats
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from eventyard.cli import main as eventyard_main

profilers: list[cProfile.Profile] = []


def _start_in_thread(*_: Any) -> None:
    """Installed by threading.setprofile: the first event in a new thread starts its own profiler."""
    profiler = cProfile.Profile(time.thread_time)
    profilers.append(profiler)
    profiler.enable()  # replaces this bootstrap hook for the thread


class _Snapshot:
    """What pstats.Stats loads: one profiler's counts, taken without stopping it."""

    def __init__(self, profiler: cProfile.Profile) -> None:
        profiler.snapshot_stats()  # type: ignore[attr-defined]
        self.stats = profiler.stats  # type: ignore[attr-defined]

    def create_stats(self) -> None:
        pass


def _clear(signum: int, frame: FrameType | None) -> None:
    for profiler in list(profilers):
        profiler.clear()  # type: ignore[attr-defined]


def _dump(signum: int, frame: FrameType | None) -> None:
    snapshots = [snapshot for snapshot in map(_Snapshot, list(profilers)) if snapshot.stats]  # idle threads: none
    stats = pstats.Stats(snapshots[0])  # type: ignore[arg-type]
    for snapshot in snapshots[1:]:
        stats.add(snapshot)  # type: ignore[arg-type]
    stats.dump_stats(os.environ["EVENTYARD_CPROFILE_OUT"])


def main() -> int:
    threading.setprofile(_start_in_thread)
    signal.signal(signal.SIGUSR1, _clear)
    signal.signal(signal.SIGUSR2, _dump)
    main_profiler = cProfile.Profile(time.thread_time)
    profilers.append(main_profiler)
    main_profiler.enable()
    return eventyard_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

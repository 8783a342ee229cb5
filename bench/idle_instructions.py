"""Instructions an idle server spends per second, counted by valgrind's callgrind: the time-driven
work (timers, the metrics recorder's flush loop, gauges) that `instructions.py` charges to the
requests of its window in proportion to how long they took under valgrind.

    python bench/idle_instructions.py [--seconds 60] [--queues 20]   # EVENTYARD_METRICS=off to compare

After start-up, `--queues` queues are created and each given ten messages (so depth gauges have
something to read), the server is left to settle, callgrind's counters are dumped, and after
`--seconds` of idleness dumped again: the second dump's total over the seconds is the idle rate.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from instructions import START_UP_TIMEOUT, callgrind_peer, dump, last_total, send, settle
from peers import ROOT
from scenarios import queue, send_requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--queues", type=int, default=20)
    opts = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-idle-") as tmp:
        peer = callgrind_peer(ROOT, "idle", Path(tmp))
        try:
            peer.start(ready_service="health", timeout=START_UP_TIMEOUT)
            assert peer.pid is not None
            for number in range(opts.queues):
                send(peer, send_requests(queue(peer, f"idle-{number}")), 10)
            settle(peer.pid)
            dump(peer.pid)
            time.sleep(opts.seconds)
            dump(peer.pid)
            rate = last_total(Path(tmp), "idle") / opts.seconds
        finally:
            peer.stop()
    print(f"idle server, {opts.queues} queues: {rate:,.0f} instructions/s over {opts.seconds:.0f} s")


if __name__ == "__main__":
    main()

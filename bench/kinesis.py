"""Kinesis PutRecords (100 records of 100 B) and GetRecords (Limit 1,000) in records/s, for Eventyard,
moto's server, MiniStack and kinesalite (from npm) side by side in one run.

    python bench/kinesis.py [--seconds 8] [--shards 4] [--connections 16] [--readers 8]
                            [--peers eventyard,moto,ministack,kinesalite] [--baseline DIR]

PutRecords is driven by wrk (a Lua script cycling through prepared batches); GetRecords by raw
HTTP from several processes (each reader follows NextShardIterator through a filled shard and starts
over from TRIM_HORIZON at the tip). Eventyard commits every acknowledged PutRecords to SQLite (WAL)
before answering; the peers keep records in memory (kinesalite in an in-memory LevelDB).
"""

from __future__ import annotations

import argparse
import sys

from load import Measurement, Report, guarded, measure_wrk
from peers import Peer, each, select
from rawhttp import measure
from scenarios import filled_stream, get_records, put_records_requests, stream


def bench_peer(peer: Peer, report: Report, opts: argparse.Namespace) -> None:
    name = stream(peer, opts.shards, "bench-put")
    scenario = f"PutRecords 100 x 100 B, {opts.connections} conns (wrk)"
    guarded(report, peer.name, scenario, lambda: measure_wrk(
        scenario, peer.name, peer.pid, peer.url, put_records_requests(name), opts.connections, opts.seconds, 100,
        "records/s"))
    context = filled_stream(peer, opts.records, opts.shards)
    scenario = f"GetRecords Limit 1000, {opts.processes}x{opts.readers} readers (raw)"

    def read() -> Measurement:
        row, _ = measure(scenario, peer.name, peer.pid, peer.url, get_records, opts.processes, opts.readers,
                         opts.seconds, "records/s", args=context)
        return row

    guarded(report, peer.name, scenario, read)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--readers", type=int, default=4, help="readers per process")
    parser.add_argument("--records", type=int, default=100_000, help="records put before the GetRecords phase")
    parser.add_argument("--peers", default="eventyard,moto,ministack,kinesalite")
    parser.add_argument("--baseline", default=None, help="also run Eventyard from this tree (A/B in one run)")
    opts = parser.parse_args()
    report = Report("Kinesis", "python bench/kinesis.py " + " ".join(sys.argv[1:]))
    each(select(opts.peers, opts.baseline), lambda peer: bench_peer(peer, report, opts))
    report.print()


if __name__ == "__main__":
    main()

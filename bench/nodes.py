"""Throughput of one machine's cores: SQLite in one process against PostgreSQL with 1, 2 and 3 workers.

Each configuration serves SQS SendMessage, SQS ReceiveMessage (10 at a time, from the messages the send
phase left) and EventBridge PutEvents (one event per call, matched by a rule that targets an SQS
queue, so every accepted event is committed with its delivery). The load comes from `wrk` (a C load
generator, Debian's `wrk` package) with Lua request scripts, so the client is not the bottleneck;
the requests carry a SigV4-shaped Authorization header as every SDK sends (the server does not check
signatures unless authentication is on). Reported per phase: calls/s, messages/s, and CPU seconds per
second of wall time used by the server processes, PostgreSQL's processes and wrk, the same per call
(µs), and the load average as each phase ended (the machine is shared: other work moves every figure).

    python bench/nodes.py [--seconds 10] [--connections 32] [--configs sqlite,pg1,pg2,pg3]

PostgreSQL at EVENTYARD_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres);
each configuration gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql as pgsql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.peers import Peer, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("EVENTYARD_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/{service}/aws4_request, "
                 "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)

# One wrk script per phase: the request, and a count of what the answers carried (summed in done()).
SCRIPT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "%(content_type)s"
wrk.headers["X-Amz-Target"] = "%(target)s"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
wrk.headers["Authorization"] = "%(authorization)s"
wrk.body = [==[%(body)s]==]
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) items = 0; errors = 0 end
function response(status, headers, body)
  if status ~= 200 then errors = errors + 1; return end
  local _, n = string.gsub(body, "%(count_marker)s", "")
  items = items + n
end
function done(summary, latency, requests)
  local total, failed = 0, 0
  for _, thread in ipairs(threads) do total = total + thread:get("items"); failed = failed + thread:get("errors") end
  io.write(string.format("RESULT %%d %%d %%d %%.6f\n", summary.requests, total, failed, summary.duration / 1e6))
end
"""


@dataclass
class Phase:
    name: str
    service: str
    target: str
    content_type: str
    body: str
    count_marker: str  # a string each item in an answer carries once


@dataclass
class Result:
    config: str
    phase: str
    calls_per_s: float
    items_per_s: float
    errors: int
    server_cpu: float
    postgres_cpu: float
    client_cpu: float
    load: float  # the machine's 1-minute load average when the phase ended


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU used so far by each PostgreSQL process on this machine (the server's backends included), by pid."""
    used, ticks = {}, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        if "(postgres)" not in raw:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def postgres_cpu_since(before: dict[int, float]) -> float:
    """CPU-seconds PostgreSQL's processes used since `before`: a process that ended meanwhile (another
    engineer's test backend) is left out instead of subtracting its whole life from the sum."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu_seconds().items())


def run_wrk(url: str, phase: Phase, seconds: int, connections: int, threads: int) -> tuple[int, int, int, float, float]:
    script = SCRIPT % {"content_type": phase.content_type, "target": phase.target, "body": phase.body,
                       "authorization": AUTHORIZATION.format(service=phase.service), "count_marker": phase.count_marker}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s",
                           "-s", handle.name, url], capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(handle.name)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    _, requests, items, errors, duration = line.split()
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return int(requests), int(items), int(errors), float(duration), client_cpu


def create_database(name: str) -> str:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
        conn.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
                     .format(pgsql.Identifier(name)))
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))


def checkpoint() -> None:
    """Write out what earlier configurations left dirty in PostgreSQL's buffers and WAL, so the next one
    does not pay for it (run order otherwise decides which configuration looks faster)."""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def start_server(config: str) -> tuple[Peer, str | None]:
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-nodes-")
    command = [sys.executable, "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--data-dir", data, "--log-level", "warning"]
    env = {"PYTHONPATH": str(ROOT), "EVENTYARD_METRICS": os.environ.get("EVENTYARD_METRICS", "on")}
    database = None
    if config.startswith("pg"):
        database = f"eventyard_bench_{os.getpid()}_{config}"
        command += ["--storage", create_database(database), "--workers", config[2:]]
    peer = Peer(f"eventyard-{config}", command, port, env=env, scratch=[data])
    return peer.start(), database


def prepare(peer: Peer) -> tuple[str, str]:
    sqs, events = peer.client("sqs"), peer.client("events")
    queue = sqs.create_queue(QueueName="bench")["QueueUrl"]
    sink = sqs.create_queue(QueueName="bench-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=sink, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["bench.orders"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "sink", "Arn": arn}])
    return queue, sink


def phases(queue_url: str) -> list[Phase]:
    sqs_json = "application/x-amz-json-1.0"
    entry = {"Source": "bench.orders", "DetailType": "order placed", "Detail": json.dumps({"order": 42, "total": 12.5})}
    return [
        Phase("SendMessage", "sqs", "AmazonSQS.SendMessage", sqs_json,
              json.dumps({"QueueUrl": queue_url, "MessageBody": '{"order": 42, "lines": [1, 2, 3]}'}), "MessageId"),
        Phase("ReceiveMessage x10", "sqs", "AmazonSQS.ReceiveMessage", sqs_json,
              json.dumps({"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 3600}),
              "ReceiptHandle"),
        Phase("PutEvents", "events", "AWSEvents.PutEvents", "application/x-amz-json-1.1",
              json.dumps({"Entries": [entry]}), "EventId"),
    ]


def measure(config: str, seconds: int, connections: int, threads: int) -> list[Result]:
    checkpoint()
    peer, database = start_server(config)
    results = []
    try:
        queue, _sink = prepare(peer)
        for phase in phases(queue):
            server_before, pg_before = peer.cpu_seconds(), postgres_cpu_seconds()
            requests, items, errors, duration, client_cpu = run_wrk(peer.url, phase, seconds, connections, threads)
            server_cpu = (peer.cpu_seconds() - server_before) / duration
            pg_cpu = postgres_cpu_since(pg_before) / duration
            results.append(Result(config, phase.name, requests / duration, items / duration, errors, server_cpu, pg_cpu,
                                  client_cpu / duration, os.getloadavg()[0]))
            print(f"  {config:7} {phase.name:20} {requests / duration:9.0f} calls/s {items / duration:9.0f} items/s"
                  f"  errors {errors}", flush=True)
    finally:
        peer.stop()
        if database:
            drop_database(database)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (one keeps wrk's CPU low)")
    parser.add_argument("--configs", default="sqlite,pg1,pg2,pg3")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the configurations this many times, every other round in reverse order")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    results: list[Result] = []
    load_before = os.getloadavg()[0]
    configs = args.configs.split(",")
    for number in range(args.rounds):
        for config in configs if number % 2 == 0 else list(reversed(configs)):
            results += measure(config, args.seconds, args.connections, args.threads)
    print(f"\n{nproc()} cores, {args.connections} connections, {args.seconds} s per phase; CPU = CPU-seconds per second;"
          f" load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other work on the machine skews it)")
    print("| configuration | call | calls/s | items/s | server CPU | server µs/call | PostgreSQL CPU | PostgreSQL µs/call"
          " | wrk CPU | load | errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = {"sqlite": "SQLite, 1 process", "pg1": "PostgreSQL, 1 worker", "pg2": "PostgreSQL, 2 workers",
             "pg3": "PostgreSQL, 3 workers"}
    for r in results:
        per_call = 1e6 / max(r.calls_per_s, 1e-9)  # CPU-seconds per second over calls per second
        print(f"| {names.get(r.config, r.config)} | {r.phase} | {r.calls_per_s:.0f} | {r.items_per_s:.0f} |"
              f" {r.server_cpu:.2f} | {r.server_cpu * per_call:.0f} | {r.postgres_cpu:.2f} | {r.postgres_cpu * per_call:.0f} |"
              f" {r.client_cpu:.2f} | {r.load:.1f} | {r.errors} |")
    return 0


def nproc() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())

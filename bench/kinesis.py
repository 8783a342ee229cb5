"""Kinesis throughput: PutRecords (100-record batches) and GetRecords, in records/s, for Eventyard,
moto's server, MiniStack and kinesalite side by side in the same run; prints a table with ratios.

    python3 bench/kinesis.py [--seconds 4] [--clients 4] [--shards 4] [--only eventyard,moto,...]

Each server is started on 127.0.0.1 on a free port, driven by several client processes (one boto3
process tops out near 450 calls/s), and stopped by its PID. Peers that are not installed are
reported as skipped: moto (`pip install "moto[server]"`), MiniStack (`pip install ministack`),
kinesalite (installed here from npm into a temporary directory). Client and server CPU seconds are
reported so a result limited by the client is visible as such.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = b"x" * 100
BATCH = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and its children that were waited for (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f) for f in fields[11:15]) / ticks


def process_tree_cpu(pid: int) -> float:
    total = cpu_seconds(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(process_tree_cpu(int(c)) for c in children)


@dataclass
class Peer:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env={**os.environ, **self.env}, cwd=self.cwd,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and its workers
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("kinesis", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 0}, read_timeout=60, connect_timeout=5))


def wait_active(kinesis: Any, name: str) -> None:
    deadline = time.monotonic() + 60
    while kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError("stream never became ACTIVE")
        time.sleep(0.05)


def put_worker(url: str, name: str, worker: int, seconds: float, out: Any) -> None:
    kinesis = client(url)
    batch = [{"Data": PAYLOAD, "PartitionKey": f"w{worker}-{i}"} for i in range(BATCH)]
    kinesis.put_records(StreamName=name, Records=batch)  # warm the connection
    written = errors = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        result = kinesis.put_records(StreamName=name, Records=batch)
        errors += result.get("FailedRecordCount", 0)
        written += BATCH - result.get("FailedRecordCount", 0)
    elapsed = time.monotonic() - start
    usage = os.times()
    out.put((written, errors, elapsed, usage.user + usage.system))


def get_worker(url: str, name: str, shard_id: str, seconds: float, out: Any) -> None:
    kinesis = client(url)
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    read = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        read += len(page["Records"])
        iterator = page.get("NextShardIterator")
        if not page["Records"] or iterator is None:  # read to the tip: start over from the horizon
            iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id,
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    elapsed = time.monotonic() - start
    usage = os.times()
    out.put((read, 0, elapsed, usage.user + usage.system))


def run_phase(target: Any, args: list[tuple[Any, ...]]) -> tuple[float, float, int]:
    queue: Any = mp.Queue()
    procs = [mp.Process(target=target, args=(*a, queue)) for a in args]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join()
    count = sum(r[0] for r in results)
    elapsed = max(r[2] for r in results)
    return count / elapsed, sum(r[3] for r in results), sum(r[1] for r in results)


def bench(peer: Peer, seconds: float, clients: int, shards: int) -> dict[str, Any]:
    kinesis = client(peer.url)
    name = f"bench-{int(time.time())}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    wait_active(kinesis, name)
    assert peer.process is not None
    cpu0 = process_tree_cpu(peer.process.pid)
    put_rate, put_client_cpu, failed = run_phase(put_worker, [(peer.url, name, w, seconds) for w in range(clients)])
    cpu1 = process_tree_cpu(peer.process.pid)
    shard_ids = [s["ShardId"] for s in kinesis.list_shards(StreamName=name)["Shards"]]
    readers = [(peer.url, name, shard_ids[i % len(shard_ids)], seconds) for i in range(clients)]
    get_rate, get_client_cpu, _ = run_phase(get_worker, readers)
    cpu2 = process_tree_cpu(peer.process.pid)
    return {"put": put_rate, "get": get_rate, "failed": failed, "put_server_cpu": cpu1 - cpu0,
            "get_server_cpu": cpu2 - cpu1, "put_client_cpu": put_client_cpu, "get_client_cpu": get_client_cpu}


def peers(workdir: Path, only: set[str] | None) -> list[Peer | str]:
    found: list[Peer | str] = []

    def want(name: str) -> bool:
        return only is None or name in only

    if want("eventyard"):
        port = free_port()
        found.append(Peer("eventyard", [sys.executable, "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port",
                                        str(port), "--data-dir", str(workdir / "eventyard"), "--log-level", "warning"],
                          cwd=str(ROOT), port=port))
    if want("moto"):
        port = free_port()
        exe = shutil.which("moto_server")
        found.append(Peer("moto", [exe, "-H", "127.0.0.1", "-p", str(port)], port=port) if exe
                     else "moto: skipped (pip install 'moto[server]')")
    if want("ministack"):
        port = free_port()
        exe = shutil.which("ministack")
        found.append(Peer("ministack", [exe], env={"BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}, port=port)
                     if exe else "ministack: skipped (pip install ministack)")
    if want("kinesalite"):
        port = free_port()
        cache = Path(os.environ.get("KINESALITE_DIR", workdir / "kinesalite"))
        cli = cache / "node_modules" / "kinesalite" / "cli.js"
        if not cli.exists() and shutil.which("npm"):
            cache.mkdir(parents=True, exist_ok=True)
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "kinesalite"],
                           cwd=cache, capture_output=True, timeout=300)
        found.append(Peer("kinesalite", ["node", str(cli), "--port", str(port), "--host", "127.0.0.1",
                                         "--createStreamMs", "0", "--updateStreamMs", "0", "--deleteStreamMs", "0"],
                          port=port) if cli.exists() else "kinesalite: skipped (npm install failed or npm missing)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--only", default=None, help="comma-separated: eventyard,moto,ministack,kinesalite")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    results: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-kinesis-") as tmp:
        for peer in peers(Path(tmp), only):
            if isinstance(peer, str):
                notes.append(peer)
                continue
            try:
                peer.start()
                results[peer.name] = bench(peer, args.seconds, args.clients, args.shards)
            except Exception as error:  # a peer that fails is reported, the others still run
                notes.append(f"{peer.name}: failed ({error})")
            finally:
                peer.stop()
    base = results.get("eventyard")
    print(f"\nKinesis throughput: {args.clients} client processes, {args.shards} shards, {args.seconds:.0f} s per "
          f"phase, {len(PAYLOAD)}-byte records, PutRecords of {BATCH}, GetRecords Limit 1000")
    print(f"{'server':<11} {'PutRecords rec/s':>17} {'x eventyard':>12} {'GetRecords rec/s':>17} {'x eventyard':>12}"
          f" {'put CPU srv/cli s':>18} {'get CPU srv/cli s':>18}")
    for name, r in results.items():
        put_ratio = f"{base['put'] / r['put']:.2f}" if base and r["put"] else "-"
        get_ratio = f"{base['get'] / r['get']:.2f}" if base and r["get"] else "-"
        print(f"{name:<11} {r['put']:>17,.0f} {put_ratio:>12} {r['get']:>17,.0f} {get_ratio:>12}"
              f" {r['put_server_cpu']:>8.1f}/{r['put_client_cpu']:<9.1f} {r['get_server_cpu']:>8.1f}/"
              f"{r['get_client_cpu']:<9.1f}")
    print("x eventyard = Eventyard's rate divided by that server's (above 1: Eventyard is faster).")
    print("Eventyard commits every acknowledged PutRecords to SQLite (WAL) before answering;"
          " moto, MiniStack and kinesalite (in-memory by default) keep records in memory.")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()

"""Lambda benchmark: cold start, warm invoke latency (p50/p99) and invokes/s for a trivial Python
handler, against the same handler called in-process as the floor.

    python3 bench/lambda.py [--invokes 300] [--procs 2]

Starts its own Eventyard on 127.0.0.1 (a temporary data dir) and stops it by PID at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
CODE = "def handler(event, context):\n    return {'ok': True}\n"


def client(url: str):  # type: ignore[no-untyped-def]
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="a",
                        aws_secret_access_key="b", config=Config(retries={"max_attempts": 1}))


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", CODE)
    return buffer.getvalue()


def worker(url: str, name: str, count: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    lam = client(url)
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        lam.invoke(FunctionName=name, Payload=b"{}")
        latencies.append((time.perf_counter() - start) * 1000)
    out.put(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invokes", type=int, default=300)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    port = 45000 + os.getpid() % 1000
    url = f"http://127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="ey-bench-lambda-")
    server = subprocess.Popen([sys.executable, "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--data-dir", data, "--log-level", "warning"], cwd=ROOT)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_eventyard/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        lam = client(url)
        rows = []
        colds = []
        for i in range(3):
            lam.create_function(FunctionName=f"cold{i}", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
                                Handler="app.handler", Code={"ZipFile": zipped()})
            start = time.perf_counter()
            lam.invoke(FunctionName=f"cold{i}", Payload=b"{}")
            colds.append((time.perf_counter() - start) * 1000)
        rows.append(("cold start (invoke incl. worker spawn), median ms", f"{statistics.median(colds):.1f}"))
        name = "warm"
        lam.create_function(FunctionName=name, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
                            Handler="app.handler", Code={"ZipFile": zipped()})
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=args.procs)
        lam.invoke(FunctionName=name, Payload=b"{}")
        latencies = []
        for _ in range(100):
            start = time.perf_counter()
            lam.invoke(FunctionName=name, Payload=b"{}")
            latencies.append((time.perf_counter() - start) * 1000)
        latencies.sort()
        rows.append(("warm invoke p50 ms (1 client)", f"{latencies[49]:.2f}"))
        rows.append(("warm invoke p99 ms (1 client)", f"{latencies[98]:.2f}"))
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        cpu_before = Path(f"/proc/{server.pid}/stat").read_text().split()
        start = time.perf_counter()
        procs = [multiprocessing.Process(target=worker, args=(url, name, args.invokes // args.procs, queue))
                 for _ in range(args.procs)]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - start
        cpu_after = Path(f"/proc/{server.pid}/stat").read_text().split()
        ticks = os.sysconf("SC_CLK_TCK")
        server_cpu = (int(cpu_after[13]) + int(cpu_after[14]) - int(cpu_before[13]) - int(cpu_before[14])) / ticks
        total = sum(len(r) for r in results)
        rows.append((f"warm invokes/s ({args.procs} client procs)", f"{total / elapsed:.0f}"))
        rows.append(("server CPU during throughput run, s / wall s", f"{server_cpu:.1f} / {elapsed:.1f}"))
        namespace: dict[str, object] = {}
        exec(CODE, namespace)
        handler = namespace["handler"]
        start = time.perf_counter()
        for _ in range(100000):
            handler({}, None)  # type: ignore[operator]
        floor = (time.perf_counter() - start) / 100000 * 1e6
        rows.append(("in-process handler call (floor), us", f"{floor:.2f}"))
        width = max(len(r[0]) for r in rows)
        print(f"{'metric'.ljust(width)} | value")
        print(f"{'-' * width}-|------")
        for metric, value in rows:
            print(f"{metric.ljust(width)} | {value}")
        print(json.dumps({"note": "MiniStack and SQS->Lambda throughput not measured in this script yet"}))
    finally:
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    main()

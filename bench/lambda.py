"""Lambda benchmark: cold start, warm invoke latency (p50/p99) and invokes/s for a trivial Python
handler, SQS->Lambda messages/s through an event source mapping, the same handler called in-process
as the floor, and MiniStack's Lambda (which runs Python handlers without Docker) in the same run.

    python3 bench/lambda.py --load boto3 [--invokes 600] [--procs 2] [--messages 2000] [--peers eventyard,ministack]

Server load (`--load wrk`, the default): warm RequestResponse Invoke of the same handler driven by wrk
(SigV4-shaped requests), Eventyard and MiniStack in the same run, with server and client CPU:

    python3 bench/lambda.py [--seconds 8] [--connections 8] [--peers eventyard,ministack] [--baseline DIR]

Each server is started on 127.0.0.1 with a temporary data dir and stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from load import Report, guarded, measure_wrk
from peers import Peer, create_execution_role, each, select
from scenarios import function, invoke_requests

ROOT = Path(__file__).resolve().parents[1]
CODE = "def handler(event, context):\n    return {'ok': True}\n"
ROLE = "arn:aws:iam::000000000000:role/r"


def client(url: str, service: str = "lambda") -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}, read_timeout=120))


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", CODE)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:
            pass
        time.sleep(0.05)
    return False


def create_active(lam: Any, name: str) -> None:
    create_execution_role(lam.meta.endpoint_url, ROLE)
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zipped()}, Timeout=30)
    wait_until(lambda: lam.get_function_configuration(FunctionName=name).get("State", "Active") == "Active", 30)


def client_proc(url: str, name: str, count: int, out: Any) -> None:
    lam = client(url)
    latencies = []
    cpu = time.process_time()
    for _ in range(count):
        start = time.perf_counter()
        lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()
        latencies.append((time.perf_counter() - start) * 1000)
    out.put((latencies, time.process_time() - cpu))


def cpu_seconds(pid: int) -> float:
    """The server's CPU time, its worker processes included once they have been reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f) for f in fields[11:15]) / ticks


def measure(url: str, pid: int, args: argparse.Namespace) -> dict[str, str]:
    lam = client(url)
    rows: dict[str, str] = {}
    colds = []
    for i in range(3):
        create_active(lam, f"cold{i}")
        start = time.perf_counter()
        lam.invoke(FunctionName=f"cold{i}", Payload=b"{}")["Payload"].read()
        colds.append((time.perf_counter() - start) * 1000)
    rows["cold start ms (median of 3, invoke incl. worker spawn)"] = f"{statistics.median(colds):.0f}"
    create_active(lam, "warm")
    lam.invoke(FunctionName="warm", Payload=b"{}")
    latencies = []
    for _ in range(200):
        start = time.perf_counter()
        lam.invoke(FunctionName="warm", Payload=b"{}")["Payload"].read()
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    rows["warm invoke p50 ms (1 client)"] = f"{latencies[99]:.2f}"
    rows["warm invoke p99 ms (1 client)"] = f"{latencies[197]:.2f}"
    queue: Any = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client_proc, args=(url, "warm", args.invokes // args.procs, queue))
             for _ in range(args.procs)]
    cpu_before = cpu_seconds(pid)
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    server_cpu = cpu_seconds(pid) - cpu_before
    total = sum(len(r[0]) for r in results)
    rows[f"warm invokes/s ({args.procs} client procs)"] = f"{total / elapsed:.0f}"
    rows["  server CPU s / client CPU s / wall s"] = (f"{server_cpu:.1f} / {sum(r[1] for r in results):.1f} / "
                                                     f"{elapsed:.1f}")
    rows["SQS->Lambda messages/s (BatchSize 10)"] = sqs_to_lambda(url, args.messages)
    return rows


def sqs_to_lambda(url: str, messages: int) -> str:
    sqs, lam = client(url, "sqs"), client(url)
    queue_url = sqs.create_queue(QueueName="bench-src")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_active(lam, "consumer")
    lam.invoke(FunctionName="consumer", Payload=b"{}")
    for start in range(0, messages, 10):
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"n": start + i})} for i in range(min(10, messages - start))])

    def left() -> int:
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
    try:
        begin = time.perf_counter()
        mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=10)
    except Exception as exc:  # a peer without SQS mappings
        return f"n/a ({type(exc).__name__})"
    done = wait_until(lambda: left() == 0, 120)
    elapsed = time.perf_counter() - begin
    try:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    except Exception:
        pass
    if not done:
        return f"n/a ({left()} of {messages} left after 120 s)"
    return f"{messages / elapsed:.0f}"


def start_eventyard() -> tuple[str, subprocess.Popen[bytes], str]:
    port = free_port()
    data = tempfile.mkdtemp(prefix="ey-bench-lambda-")
    process = subprocess.Popen([sys.executable, "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--data-dir", data, "--log-level", "warning"], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: urllib.request.urlopen(f"{url}/_eventyard/health", timeout=1).status == 200, 30)
    return url, process, data


def start_ministack() -> tuple[str, subprocess.Popen[bytes], str] | None:
    exe = shutil.which("ministack")
    if exe is None:
        return None
    port = free_port()
    data = tempfile.mkdtemp(prefix="ey-bench-ministack-")
    env = {**os.environ, "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}
    process = subprocess.Popen([exe], env=env, cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not wait_until(lambda: client(url).list_functions() is not None, 30):
        stop(process)
        return None
    return url, process, data


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def floor() -> str:
    namespace: dict[str, Any] = {}
    exec(CODE, namespace)
    handler = namespace["handler"]
    start = time.perf_counter()
    for _ in range(100000):
        handler({}, None)
    return f"{(time.perf_counter() - start) / 100000 * 1e6:.2f} us/call"


def server_load(args: argparse.Namespace) -> None:
    """Warm RequestResponse invokes/s under wrk, peers in the same run (see the module docstring)."""
    report = Report("Lambda Invoke", "python bench/lambda.py " + " ".join(sys.argv[1:]))

    def run(peer: Peer) -> None:
        name = function(peer)
        for connections in (1, args.connections):
            scenario = f"Invoke (warm, RequestResponse), {connections} conns (wrk)"
            guarded(report, peer.name, scenario, lambda: measure_wrk(
                scenario, peer.name, peer.pid, peer.url, invoke_requests(name), connections, args.seconds, 1,
                "invokes/s"))

    each(select(args.peers, args.baseline), run)
    report.print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", choices=["wrk", "boto3"], default="wrk")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--baseline", default=None, help="also run Eventyard from this tree (A/B in one run)")
    parser.add_argument("--invokes", type=int, default=600)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--peers", default="eventyard,ministack")
    args = parser.parse_args()
    if args.load == "wrk":
        server_load(args)
        return
    peers = args.peers.split(",")
    results: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    starters = {"eventyard": start_eventyard, "ministack": start_ministack}
    for peer in peers:
        started = starters[peer]()
        if started is None:
            notes.append(f"{peer}: could not start (not installed or did not answer)")
            continue
        url, process, data = started
        try:
            results[peer] = measure(url, process.pid, args)
        finally:
            stop(process)
            shutil.rmtree(data, ignore_errors=True)
    metrics = list(next(iter(results.values())).keys()) if results else []
    names = list(results)
    width = max([len(m) for m in metrics] + [len("in-process handler call (floor)")])
    header = f"{'metric'.ljust(width)} | " + " | ".join(n.ljust(16) for n in names)
    if {"eventyard", "ministack"} <= set(names):
        header += " | eventyard/ministack"
    print(header)
    print("-" * len(header))
    for metric in metrics:
        values = [results[n].get(metric, "") for n in names]
        line = f"{metric.ljust(width)} | " + " | ".join(v.ljust(16) for v in values)
        if {"eventyard", "ministack"} <= set(names):
            line += " | " + _ratio(metric, results["eventyard"].get(metric, ""), results["ministack"].get(metric, ""))
        print(line)
    print(f"{'in-process handler call (floor)'.ljust(width)} | {floor()}")
    for note in notes:
        print(note)


def _ratio(metric: str, ours: str, theirs: str) -> str:
    try:
        a, b = float(ours), float(theirs)
    except ValueError:
        return ""
    if "/s" in metric:
        return f"{a / b:.1f}x faster" if a >= b else f"{b / a:.1f}x slower"
    return f"{b / a:.1f}x faster" if a <= b else f"{a / b:.1f}x slower"


if __name__ == "__main__":
    main()

"""Step Functions benchmark: Eventyard side by side with MiniStack (a Python emulator, over boto3)
and the npm package aws-local-stepfunctions (an in-process TypeScript interpreter, no server).

Workloads (the same definitions for every engine):
  chain20   STANDARD executions of a 20-state Pass/Choice workflow -> state transitions/s
  express   StartSyncExecution of a 3-state EXPRESS workflow        -> executions/s
  map1000   one execution of a Map over 1,000 items                 -> seconds to finish

  python3 bench/stepfunctions.py [--executions 200] [--seconds 5] [--clients 3] [--skip-ministack] [--skip-npm]

Server load (`--load wrk`, the default): EXPRESS StartExecution and StartSyncExecution of the 3-state
workflow driven by wrk (Lua request scripts, SigV4-shaped), Eventyard, moto's server and MiniStack
in the same run, with server and client CPU; `--load boto3` runs the workloads above instead:

  python3 bench/stepfunctions.py --load wrk [--seconds 8] [--connections 16] [--peers eventyard,moto,ministack]

Load comes from several client processes (one boto3 process tops out near 450 calls/s); the
table reports server and client CPU seconds next to each throughput. Every process started here
binds 127.0.0.1 and is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from load import Report, guarded, measure_wrk, tree_cpu
from peers import Peer, create_execution_role, each, select
from scenarios import express_machine, start_execution_requests

ROLE = "arn:aws:iam::000000000000:role/bench"
ROOT = Path(__file__).resolve().parents[1]


def chain20() -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i in range(20):
        name, nxt = f"S{i}", f"S{i + 1}"
        if i == 19:
            states[name] = {"Type": "Pass", "End": True}
        elif i % 2:
            states[name] = {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 0,
                                                           "Next": nxt}], "Default": nxt}
        else:
            states[name] = {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": nxt}
    return {"StartAt": "S0", "States": states}


EXPRESS = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Parameters": {"v.$": "$.v"}, "Next": "B"},
    "B": {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericEquals": 1, "Next": "C"}], "Default": "C"},
    "C": {"Type": "Pass", "End": True}}}

MAP1000 = {"StartAt": "M", "States": {"M": {
    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0, "End": True,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P",
                      "States": {"P": {"Type": "Pass", "End": True}}}}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, inject_host_prefix=False,
                                      max_pool_connections=4))


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            client(url).list_state_machines()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


# -- client processes -------------------------------------------------------------------------
def _run_standard(args: tuple[str, str, int, dict[str, Any]]) -> tuple[int, float]:
    url, machine, count, payload = args
    sfn = client(url)
    start = time.process_time()
    arns = [sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]
            for _ in range(count)]
    ok = 0
    for arn in arns:
        while True:
            status = sfn.describe_execution(executionArn=arn)["status"]
            if status != "RUNNING":
                ok += status == "SUCCEEDED"
                break
            time.sleep(0.01)
    return ok, time.process_time() - start


def _run_express(args: tuple[str, str, float]) -> tuple[int, float]:
    url, machine, seconds = args
    sfn = client(url)
    start, cpu = time.time(), time.process_time()
    done = 0
    while time.time() - start < seconds:
        if sfn.start_sync_execution(stateMachineArn=machine, input='{"v": 1}')["status"] == "SUCCEEDED":
            done += 1
    return done, time.process_time() - cpu


def _server_cpu(pid: int) -> float:
    return tree_cpu(pid)


def bench_server(name: str, url: str, pid: int, opts: argparse.Namespace) -> dict[str, Any]:
    sfn = client(url)
    results: dict[str, Any] = {}
    stamp = int(time.time())
    pool = multiprocessing.get_context("spawn").Pool(opts.clients)
    create_execution_role(url, ROLE)
    try:
        chain = sfn.create_state_machine(name=f"chain-{stamp}", definition=json.dumps(chain20()),
                                         roleArn=ROLE)["stateMachineArn"]
        per = opts.executions // opts.clients
        cpu0, t0 = _server_cpu(pid), time.time()
        out = pool.map(_run_standard, [(url, chain, per, {"n": 0})] * opts.clients)
        wall = time.time() - t0
        ok = sum(o[0] for o in out)
        results["chain20"] = {"value": ok * 20 / wall, "unit": "transitions/s", "ok": f"{ok}/{per * opts.clients}",
                              "server_cpu": _server_cpu(pid) - cpu0, "client_cpu": sum(o[1] for o in out)}
        try:
            express = sfn.create_state_machine(name=f"express-{stamp}", definition=json.dumps(EXPRESS),
                                               roleArn=ROLE, type="EXPRESS")["stateMachineArn"]
            cpu0, t0 = _server_cpu(pid), time.time()
            out = pool.map(_run_express, [(url, express, opts.seconds)] * opts.clients)
            wall = time.time() - t0
            done = sum(o[0] for o in out)
            results["express"] = {"value": done / wall, "unit": "executions/s", "ok": str(done),
                                  "server_cpu": _server_cpu(pid) - cpu0, "client_cpu": sum(o[1] for o in out)}
        except Exception as exc:  # noqa: BLE001 - a peer may not support it; report, do not crash
            results["express"] = {"error": f"{type(exc).__name__}: {str(exc)[:80]}"}
        mapper = sfn.create_state_machine(name=f"map-{stamp}", definition=json.dumps(MAP1000),
                                          roleArn=ROLE)["stateMachineArn"]
        cpu0, t0 = _server_cpu(pid), time.time()
        ok, client_cpu = _run_standard((url, mapper, 1, {"items": list(range(1000))}))
        wall = time.time() - t0
        results["map1000"] = {"value": wall, "unit": "s", "ok": f"{ok}/1",
                              "server_cpu": _server_cpu(pid) - cpu0, "client_cpu": client_cpu}
    finally:
        pool.close()
        pool.join()
    return results


# -- aws-local-stepfunctions (npm) -----------------------------------------------------------
NODE_SCRIPT = r"""
const { StateMachine } = require('aws-local-stepfunctions');
const [chain, express, map, executions, seconds] = JSON.parse(process.argv[2]);
(async () => {
  const out = {};
  let sm = new StateMachine(chain);
  let t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  let ok = 0;
  for (let i = 0; i < executions; i++) { const r = await sm.run({n: 0}).result; if (r) ok++; }
  let wall = Number(process.hrtime.bigint() - t0) / 1e9, cpu = process.cpuUsage(c0);
  out.chain20 = {value: ok * 20 / wall, unit: 'transitions/s', ok: `${ok}/${executions}`,
                 server_cpu: (cpu.user + cpu.system) / 1e6, client_cpu: 0};
  sm = new StateMachine(express);
  t0 = process.hrtime.bigint(); c0 = process.cpuUsage(); ok = 0;
  while (Number(process.hrtime.bigint() - t0) / 1e9 < seconds) { await sm.run({v: 1}).result; ok++; }
  wall = Number(process.hrtime.bigint() - t0) / 1e9; cpu = process.cpuUsage(c0);
  out.express = {value: ok / wall, unit: 'executions/s', ok: `${ok}`, server_cpu: (cpu.user + cpu.system) / 1e6, client_cpu: 0};
  sm = new StateMachine(map);
  const items = Array.from({length: 1000}, (_, i) => i);
  t0 = process.hrtime.bigint(); c0 = process.cpuUsage();
  const r = await sm.run({items}).result;
  wall = Number(process.hrtime.bigint() - t0) / 1e9; cpu = process.cpuUsage(c0);
  out.map1000 = {value: wall, unit: 's', ok: `${r.length === 1000 ? 1 : 0}/1`,
                 server_cpu: (cpu.user + cpu.system) / 1e6, client_cpu: 0};
  console.log(JSON.stringify(out));
})();
"""


def bench_npm(opts: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("npm") is None:
        return {"error": "npm not installed"}
    work = Path(tempfile.mkdtemp(prefix="sfn-bench-npm-"))
    try:
        subprocess.run(["npm", "init", "-y"], cwd=work, check=True, capture_output=True)
        subprocess.run(["npm", "install", "aws-local-stepfunctions"], cwd=work, check=True, capture_output=True,
                       timeout=180)
        (work / "bench.js").write_text(NODE_SCRIPT)
        arg = json.dumps([chain20(), EXPRESS, MAP1000, opts.executions, opts.seconds])
        done = subprocess.run(["node", "bench.js", arg], cwd=work, check=True, capture_output=True, text=True,
                              timeout=300)
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- servers -----------------------------------------------------------------------------------
def start_eventyard(port: int, data: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "eventyard", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--data-dir", data], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_ministack(port: int) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("ministack")
    if exe is None:
        return None
    env = dict(os.environ, BIND_HOST="127.0.0.1", GATEWAY_PORT=str(port))
    return subprocess.Popen([exe], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_load(opts: argparse.Namespace) -> None:
    """EXPRESS executions/s under wrk, peers in the same run (see the module docstring)."""
    report = Report("Step Functions EXPRESS", "python bench/stepfunctions.py " + " ".join(sys.argv[1:]))

    def run(peer: Peer) -> None:
        arn = express_machine(peer)
        for operation in ("StartExecution", "StartSyncExecution"):
            for connections in (1, opts.connections):
                scenario = f"EXPRESS {operation}, {connections} conns (wrk)"
                guarded(report, peer.name, scenario, lambda: measure_wrk(
                    scenario, peer.name, peer.pid, peer.url, start_execution_requests(arn, operation), connections,
                    opts.seconds, 1, "executions/s"))

    each(select(opts.peers, opts.baseline), run)
    report.print()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--load", choices=["wrk", "boto3"], default="wrk")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--peers", default="eventyard,moto,ministack")
    ap.add_argument("--baseline", default=None, help="also run Eventyard from this tree (A/B in one run)")
    ap.add_argument("--executions", type=int, default=150)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--skip-ministack", action="store_true")
    ap.add_argument("--skip-npm", action="store_true")
    opts = ap.parse_args()
    if opts.load == "wrk":
        server_load(opts)
        return
    table: dict[str, dict[str, Any]] = {}

    data = tempfile.mkdtemp(prefix="sfn-bench-")
    port = free_port()
    proc = start_eventyard(port, data)
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        table["eventyard"] = bench_server("eventyard", f"http://127.0.0.1:{port}", proc.pid, opts)
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)

    if not opts.skip_ministack:
        port = free_port()
        mini = start_ministack(port)
        if mini is None:
            table["ministack"] = {"error": "ministack not installed"}
        else:
            try:
                wait_ready(f"http://127.0.0.1:{port}")
                table["ministack"] = bench_server("ministack", f"http://127.0.0.1:{port}", mini.pid, opts)
            except Exception as exc:  # noqa: BLE001
                table["ministack"] = {"error": str(exc)[:100]}
            finally:
                stop(mini)
    if not opts.skip_npm:
        try:
            table["aws-local-stepfunctions"] = bench_npm(opts)
        except Exception as exc:  # noqa: BLE001
            table["aws-local-stepfunctions"] = {"error": str(exc)[:100]}
    report(table, opts)


def report(table: dict[str, dict[str, Any]], opts: argparse.Namespace) -> None:
    print(f"\nStep Functions benchmark ({opts.executions} STANDARD executions, {opts.seconds:.0f}s EXPRESS, "
          f"{opts.clients} client processes; CPU in seconds)\n")
    print("| workload | engine | result | ok | server CPU | client CPU | Eventyard ratio |")
    print("|---|---|---|---|---|---|---|")
    ours = table.get("eventyard", {})
    for workload in ("chain20", "express", "map1000"):
        for engine, results in table.items():
            if "error" in results:
                print(f"| {workload} | {engine} | error: {results['error']} | | | | |")
                continue
            row = results.get(workload, {})
            if "error" in row:
                print(f"| {workload} | {engine} | error: {row['error']} | | | | |")
                continue
            ratio = ""
            mine = ours.get(workload, {})
            if engine != "eventyard" and "value" in mine and row.get("value"):
                higher_better = row["unit"] != "s"
                r = mine["value"] / row["value"] if higher_better else row["value"] / mine["value"]
                ratio = f"{r:.2f}x"
            print(f"| {workload} | {engine} | {row['value']:.1f} {row['unit']} | {row['ok']} | "
                  f"{row['server_cpu']:.1f} | {row['client_cpu']:.1f} | {ratio} |")
    print("\naws-local-stepfunctions runs in-process (no HTTP, no persistence): its CPU is the interpreter's own.")


if __name__ == "__main__":
    main()

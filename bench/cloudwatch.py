"""CloudWatch and the metrics recorder, with moto's server where it has the operation.

1. SQS SendMessage throughput, and the server's CPU per message, with service metrics on and off
   (EVENTYARD_METRICS): the recorder must cost under 5 %. The load is wrk (bench/load.py: keep-alive
   connections, SigV4-shaped headers, JSON 1.0 bodies), so the client is not the bottleneck; runs
   alternate on/off and the medians are compared.
2. GetMetricData over a day of 1-minute data for 1,000 metrics: hourly statistics of every metric
   (two calls of 500 queries), and every 1-minute datapoint paged through with NextToken.
3. The server CPU of one evaluation period of 1,000 alarms, each flipping state (moto evaluates no
   alarms).

    python bench/cloudwatch.py [--seconds 5] [--rounds 6] [--connections 8] [--metrics 1000] [--hours 24]
                               [--alarms 1000] [--parts send,alarms,data]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from load import json_call, load_average, measure_wrk
from peers import Peer, available, eventyard, moto

BODY = "x" * 256


# -- 1. SQS send throughput with metrics on and off ----------------------------------------------------
def send_rate(peer: Peer, queue_url: str, seconds: float, connections: int) -> tuple[float, float]:
    """(messages per second, server CPU microseconds per message), driven by wrk."""
    assert peer.process is not None
    request = json_call("sqs", "AmazonSQS.SendMessage", {"QueueUrl": queue_url, "MessageBody": BODY})
    measured = measure_wrk("SendMessage", peer.name, peer.process.pid, peer.url, [request], connections, seconds)
    if measured.errors:
        raise RuntimeError(f"{measured.errors} SendMessage calls failed")
    return measured.rate, measured.server_us_per_item or 0.0


def metrics_cost(seconds: float, rounds: int, connections: int) -> list[str]:
    servers = {"on": eventyard(), "off": eventyard()}
    servers["off"].env["EVENTYARD_METRICS"] = "off"
    for server in servers.values():
        server.start()
    try:
        urls = {mode: s.client("sqs").create_queue(QueueName="bench")["QueueUrl"] for mode, s in servers.items()}
        rates: dict[str, list[float]] = {"on": [], "off": []}
        cpus: dict[str, list[float]] = {"on": [], "off": []}
        for mode in ("on", "off"):  # warm both up
            send_rate(servers[mode], urls[mode], 2.0, connections)
        for round_ in range(rounds):  # alternate which goes first: drifts in the machine's load cancel out
            for mode in (("on", "off") if round_ % 2 else ("off", "on")):
                rate, cpu = send_rate(servers[mode], urls[mode], seconds, connections)
                rates[mode].append(rate)
                cpus[mode].append(cpu)
        on_rate, off_rate = statistics.median(rates["on"]), statistics.median(rates["off"])
        on_cpu, off_cpu = statistics.median(cpus["on"]), statistics.median(cpus["off"])
        return [
            f"| SQS SendMessage (wrk, {connections} connections), metrics on | {on_rate:,.0f} msg/s | "
            f"{on_cpu:,.0f} µs server CPU/msg | medians of {rounds} runs of {seconds:.0f} s |",
            f"| SQS SendMessage (wrk, {connections} connections), metrics off | {off_rate:,.0f} msg/s | "
            f"{off_cpu:,.0f} µs server CPU/msg | load average {load_average()} |",
            f"| cost of the recorder | {100 * (off_rate - on_rate) / off_rate:+.1f} % throughput | "
            f"{100 * (on_cpu - off_cpu) / off_cpu:+.1f} % CPU/msg | must stay within 5 % |",
        ]
    finally:
        for server in servers.values():
            server.stop()


# -- 2. GetMetricData over a day of 1-minute data ------------------------------------------------------
def _loader(url: str, metrics: int, minutes: list[float], out: Any) -> None:
    import boto3
    from botocore.config import Config

    cw = boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test", config=Config(retries={"max_attempts": 3}, read_timeout=300))
    try:
        for minute in minutes:
            for first in range(0, metrics, 1000):
                cw.put_metric_data(Namespace="Bench", MetricData=[
                    {"MetricName": f"m{i:04d}", "Value": float((i + int(minute // 60)) % 97), "Timestamp": minute}
                    for i in range(first, min(metrics, first + 1000))])
    except Exception as error:  # the peer refused the load: report it rather than hang
        out.put(f"{type(error).__name__}: {str(error)[:80]}")
        return
    out.put(len(minutes))


def load(peer: Peer, metrics: int, start: float, hours: int, loaders: int = 2) -> float:
    minutes = [start + 60 * k for k in range(hours * 60)]
    out: Any = mp.Queue()
    began = time.monotonic()
    procs = [mp.Process(target=_loader, args=(peer.url, metrics, minutes[i::loaders], out)) for i in range(loaders)]
    for proc in procs:
        proc.start()
    outcomes = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    failures = [o for o in outcomes if isinstance(o, str)]
    if failures:
        raise RuntimeError(failures[0])
    return time.monotonic() - began


def _queries(metrics: range, period: int) -> list[dict[str, Any]]:
    return [{"Id": f"q{i}", "MetricStat": {"Metric": {"Namespace": "Bench", "MetricName": f"m{i:04d}"},
                                           "Period": period, "Stat": "Average"}} for i in metrics]


def query_day(peer: Peer, metrics: int, start: float, end: float, period: int, timeout: float) -> tuple[float, int]:
    """Seconds to read every metric's datapoints at `period` (500 queries a call, every page)."""
    import boto3
    from botocore.config import Config

    cw = boto3.client("cloudwatch", endpoint_url=peer.url, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}, read_timeout=timeout))
    began, points = time.monotonic(), 0
    for first in range(0, metrics, 500):
        token = None
        while True:
            page = cw.get_metric_data(MetricDataQueries=_queries(range(first, min(metrics, first + 500)), period),
                                      StartTime=start, EndTime=end, **({"NextToken": token} if token else {}))
            points += sum(len(r["Values"]) for r in page["MetricDataResults"])
            token = page.get("NextToken")
            if not token:
                break
    return time.monotonic() - began, points


def metric_data(metrics: int, hours: int, timeout: float) -> Iterator[str]:
    """One row per server, as soon as it is measured (a peer may take long)."""
    end = (time.time() // 3600) * 3600
    start = end - hours * 3600
    for peer in available([eventyard, moto]):
        peer.start()
        try:
            try:
                loaded = load(peer, metrics, start, hours)
            except RuntimeError as error:
                yield f"| GetMetricData, {peer.name} | PutMetricData failed: {error} | | |"
                continue
            cells = [f"load {metrics * hours * 60:,} points: {loaded:.0f} s"]
            for period in (3600, 60):
                try:
                    seconds, points = query_day(peer, metrics, start, end, period, timeout)
                    cells.append(f"{seconds:.2f} s ({points:,} points)")
                except Exception as error:  # a peer that cannot answer within the timeout
                    cells.append(f"> {timeout:.0f} s ({type(error).__name__})")
                    break  # a single-threaded peer is still busy with the abandoned call
            cells += ["not measured"] * (3 - len(cells))
            yield (f"| GetMetricData, {metrics:,} metrics × {hours} h of 1-min data, {peer.name} | "
                   f"hourly: {cells[1]} | every minute: {cells[2]} | {cells[0]} |")
        finally:
            peer.stop()


# -- 3. CPU of evaluating 1,000 alarms per period ------------------------------------------------------
def _advance(peer: Peer, seconds: float) -> float:
    import urllib.request

    request = urllib.request.Request(f"{peer.url}/_eventyard/clock", data=json.dumps({"advance": seconds}).encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return float(json.load(response)["now"])


def _remaining(cw: Any, state: str) -> bool:
    return bool(cw.describe_alarms(AlarmNamePrefix="bench-", StateValue=state, MaxRecords=1)["MetricAlarms"])


def alarm_cpu(alarms: int) -> list[str]:
    peer = eventyard()
    peer.env["EVENTYARD_CLOCK_CONTROL"] = "1"
    peer.start()
    try:
        cw = peer.client("cloudwatch")
        for i in range(alarms):
            cw.put_metric_alarm(AlarmName=f"bench-{i:04d}", Namespace="BenchAlarms", MetricName=f"m{i:04d}",
                                Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=0.5,
                                ComparisonOperator="GreaterThanThreshold")
        results = []
        for value, state, waiting in ((1.0, "ALARM", "INSUFFICIENT_DATA"), (0.0, "OK", "ALARM")):
            now = _advance(peer, 0)
            for first in range(0, alarms, 1000):
                cw.put_metric_data(Namespace="BenchAlarms", MetricData=[
                    {"MetricName": f"m{i:04d}", "Value": value, "Timestamp": now}
                    for i in range(first, min(alarms, first + 1000))])
            cpu, began = peer.cpu_seconds(), time.monotonic()
            _advance(peer, 60)
            while _remaining(cw, waiting):
                time.sleep(0.2)
            results.append((state, peer.cpu_seconds() - cpu, time.monotonic() - began))
        return [f"| {alarms:,} alarms evaluated, each going to {state} | {cpu:.2f} s server CPU | "
                f"{1000 * cpu / alarms:.2f} ms CPU per alarm | done {wall:.1f} s after the period ended; moto "
                "evaluates no alarms |" for state, cpu, wall in results]
    finally:
        peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--alarms", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a peer gets per GetMetricData call")
    parser.add_argument("--parts", default="send,alarms,data", help="which measurements to run")
    args = parser.parse_args()
    # Peers from this environment first (`pip install -e '.[bench]'` puts moto_server beside python).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    parts = set(args.parts.split(","))
    print("| measurement | result | | |")
    print("| --- | --- | --- | --- |")
    if "send" in parts:
        for row in metrics_cost(args.seconds, args.rounds, args.connections):
            print(row, flush=True)
    if "alarms" in parts:
        for row in alarm_cpu(args.alarms):
            print(row, flush=True)
    if "data" in parts:
        for row in metric_data(args.metrics, args.hours, args.timeout):
            print(row, flush=True)


if __name__ == "__main__":
    main()

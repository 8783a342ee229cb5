"""Load that is not the bottleneck, and the numbers every benchmark reports about it.

Two ways to drive a server, both cheaper per request than the server under test:
- `wrk` (a C load generator, Debian's `wrk` package, installed here with apt-get when missing) with a
  Lua script that cycles through prepared requests and prints its summary as one JSON line;
- raw HTTP/1.1 from several processes (`rawhttp.py`) for request sequences wrk cannot script well
  (receive then delete, put then get).

Requests are SigV4-shaped (`authorization`): the server refuses unsigned API requests, and while
authentication is off a well-formed Authorization header is all it checks (peers accept it too).
Server CPU comes from /proc of the server's processes, client CPU from the load processes' rusage,
both as cores busy over the measured interval.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATE = "20240101T000000Z"


def authorization(service: str, region: str = "us-east-1") -> str:
    """An Authorization header of the shape SDKs send (the signature is not checked while auth is off)."""
    return (f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{DATE[:8]}/{region}/{service}/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


def json_headers(service: str, target: str, version: str = "1.0") -> dict[str, str]:
    """Headers of an AWS JSON-protocol call (`target` is X-Amz-Target, e.g. AmazonSQS.SendMessage)."""
    return {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target, "X-Amz-Date": DATE,
            "Authorization": authorization(service)}


def signed_headers(service: str, content_type: str = "application/json") -> dict[str, str]:
    """Headers of a rest-json or query call (no X-Amz-Target)."""
    return {"Content-Type": content_type, "X-Amz-Date": DATE, "Authorization": authorization(service)}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str = ""


def json_call(service: str, target: str, document: Any, version: str = "1.0") -> Request:
    return Request("POST", "/", json_headers(service, target, version), json.dumps(document, separators=(",", ":")))


@dataclass
class Measurement:
    """One scenario against one server: `rate` items (messages, events, records...) per second."""

    scenario: str
    server: str
    rate: float
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cores: float = 0.0
    client_cores: float = 0.0
    errors: int = 0
    note: str = ""

    @property
    def server_us_per_item(self) -> float | None:
        return self.server_cores / self.rate * 1e6 if self.rate else None


# -- CPU ----------------------------------------------------------------------------------------------
def process_cpu(pid: int) -> float:
    """User+system CPU seconds of one process (its threads included) from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        found.append(int(child))
        found.extend(descendants(int(child)))
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its living descendants (Eventyard's Lambda workers)."""
    return sum(process_cpu(p) for p in [pid, *descendants(pid)])


def children_cpu() -> float:
    """CPU seconds of this process's waited-for children (wrk, load processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class CpuWindow:
    """Server and client CPU over an interval, as cores busy."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.server = tree_cpu(server_pid) if server_pid else 0.0
        self.client = children_cpu()
        self.started = time.monotonic()

    def close(self, extra_client_seconds: float = 0.0) -> tuple[float, float, float]:
        """(elapsed seconds, server cores, client cores)."""
        elapsed = time.monotonic() - self.started
        server = (tree_cpu(self.server_pid) - self.server) if self.server_pid else 0.0
        client = children_cpu() - self.client + extra_client_seconds
        return elapsed, server / elapsed, client / elapsed


# -- wrk ----------------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    """wrk's path; installed from Debian's packages when missing (the bench set-up runs as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if found is None:
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed and apt-get could not install it")
    return found


def _lua_string(text: str) -> str:
    level = "=" * 3
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def wrk_script(requests: list[Request], host: str) -> str:
    """A Lua script that sends `requests` round-robin (each thread from a different start) and prints
    wrk's summary and latency percentiles as one JSON line. `host`: the Host header (host:port)."""
    lines = ["local requests = {}"]
    for request in requests:
        headers = "{" + ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}"
                                  for k, v in {"Host": host, **request.headers}.items()) + "}"
        lines.append(f"requests[#requests + 1] = wrk.format({_lua_string(request.method)}, "
                     f"{_lua_string(request.path)}, {headers}, {_lua_string(request.body)})")
    lines.append("""
local next_index = 0
local thread_count = 0
function setup(thread) thread_count = thread_count + 1; thread:set("next_index", thread_count * 7919) end
function request() next_index = next_index % #requests + 1; return requests[next_index] end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "status_errors": %d, '
    .. '"p50_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d}\\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
""")
    return "\n".join(lines)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    status_errors: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(url: str, requests: list[Request], connections: int, seconds: float, threads: int = 1) -> WrkResult:
    """wrk against `url` for `seconds` with `connections` keep-alive connections."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(requests, url.split("://", 1)[1].split("/", 1)[0]))
    try:
        command = [ensure_wrk(), "-t", str(min(threads, connections)), "-c", str(connections),
                   "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", script.name, url]
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        Path(script.name).unlink()
    line = next((row for row in out.splitlines() if row.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    data = json.loads(line.removeprefix("WRKJSON "))
    return WrkResult(data["requests"], data["duration_us"] / 1e6, data["errors"], data["status_errors"],
                     data["p50_us"] / 1000, data["p99_us"] / 1000, data["p999_us"] / 1000, data["max_us"] / 1000)


def measure_wrk(scenario: str, server: str, server_pid: int | None, url: str, requests: list[Request],
                connections: int, seconds: float, items_per_request: int = 1, unit: str = "req/s",
                threads: int = 1) -> Measurement:
    window = CpuWindow(server_pid)
    result = run_wrk(url, requests, connections, seconds, threads)
    _, server_cores, client_cores = window.close()
    answered = max(result.requests - result.status_errors, 0) / result.seconds  # error answers count as errors only
    return Measurement(scenario, server, answered * items_per_request, unit, result.p50_ms, result.p99_ms,
                       server_cores, client_cores, result.errors + result.status_errors)


# -- tables -------------------------------------------------------------------------------------------
def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def table(rows: Iterable[Measurement], baseline: str = "eventyard") -> str:
    """A markdown table: one line per scenario and server, Eventyard's rate divided by each peer's."""
    rows = list(rows)
    ours = {r.scenario: r.rate for r in rows if r.server == baseline}
    out = ["| scenario | server | rate | p50 ms | p99 ms | server CPU (cores) | server µs/item | client CPU (cores) "
           "| errors | Eventyard ÷ this |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        ratio = ""
        if row.server != baseline and row.rate and ours.get(row.scenario):
            ratio = f"{ours[row.scenario] / row.rate:.2f}x"
        note = f" ({row.note})" if row.note else ""
        out.append(f"| {row.scenario} | {row.server}{note} | {_number(row.rate)} {row.unit} | {_number(row.p50_ms, 2)} "
                   f"| {_number(row.p99_ms, 2)} | {row.server_cores:.2f} | {_number(row.server_us_per_item, 1)} "
                   f"| {row.client_cores:.2f} | {row.errors} | {ratio} |")
    return "\n".join(out)


def header(title: str, command: str, load_before: str) -> str:
    return f"## {title}\n\n`{command}` — {os.cpu_count()} cores, load average before the run: {load_before}\n"


@dataclass
class Report:
    """Rows as they are measured, printed as one table at the end (and flushed as they come)."""

    title: str
    command: str
    rows: list[Measurement] = field(default_factory=list)
    load_before: str = field(default_factory=load_average)

    def add(self, row: Measurement) -> Measurement:
        self.rows.append(row)
        print(f"# {row.scenario} / {row.server}: {row.rate:,.0f} {row.unit}"
              + (f", p50 {row.p50_ms:.2f} ms p99 {row.p99_ms:.2f} ms" if row.p50_ms is not None else "")
              + f", server {row.server_cores:.2f} cores, client {row.client_cores:.2f} cores"
              + (f", {row.errors} errors" if row.errors else ""), flush=True)
        return row

    def print(self) -> None:
        print()
        print(header(self.title, self.command, self.load_before))
        print(table(self.rows))
        print(f"\nload average after the run: {load_average()}")


def guarded(report: Report, server: str, scenario: str, run: Callable[[], Measurement | None]) -> None:
    """Run one measurement; a peer that fails or lacks the feature gets a row that says so."""
    try:
        row = run()
    except Exception as error:  # a peer's failure is reported in the table, not fatal to the run
        first = str(error).splitlines()[0][:80] if str(error) else type(error).__name__
        report.add(Measurement(scenario, server, 0.0, "", note=f"failed: {first}"))
        return
    if row is not None:
        report.add(row)

"""A raw HTTP/1.1 client on asyncio streams, and a runner that drives it from several processes.

For request sequences wrk cannot script well (receive then delete what was received, put then read
back): each process runs `concurrency` coroutines, each on its own keep-alive connection, and each
call costs a few microseconds of client CPU (no botocore: one prepared header block per call kind).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import random
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dependency of the server on Linux
    uvloop = None

from load import CpuWindow, Measurement, json_headers, signed_headers


class HttpError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200]!r}")
        self.status = status
        self.body = body


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._prefixes: dict[tuple[str, str, tuple[tuple[str, str], ...]], bytes] = {}

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def _prefix(self, method: str, path: str, headers: dict[str, str]) -> bytes:
        key = (method, path, tuple(headers.items()))
        prefix = self._prefixes.get(key)
        if prefix is None:
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                     *(f"{k}: {v}" for k, v in headers.items())]
            prefix = self._prefixes[key] = ("\r\n".join(lines) + "\r\nContent-Length: ").encode()
        return prefix

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(self._prefix(method, path, headers) + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lowered = head.lower()
        at = lowered.find(b"\r\ncontent-length:")
        if at >= 0:
            end = lowered.index(b"\r\n", at + 2)
            payload = await self.reader.readexactly(int(lowered[at + 17:end]))
        elif b"transfer-encoding: chunked" in lowered:
            payload = await self._chunked()
        else:  # the body ends with the connection (HTTP/1.0 servers, moto's)
            payload = await self.reader.read()
            self._reopen()
            return status, payload
        if b"\r\nconnection: close" in lowered or lowered.startswith(b"http/1.0"):
            self._reopen()
        return status, payload

    def _reopen(self) -> None:
        """The server closes this connection: the next request opens a new one."""
        self.close()
        self.reader = self.writer = None

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


class JsonClient:
    """AWS JSON-protocol calls over one connection: `await client.call("AmazonSQS.SendMessage", {...})`."""

    def __init__(self, connection: Connection, service: str, version: str = "1.0") -> None:
        self.connection, self.service, self.version = connection, service, version
        self._headers: dict[str, dict[str, str]] = {}

    async def call(self, target: str, document: Any) -> Any:
        headers = self._headers.get(target)
        if headers is None:
            headers = self._headers[target] = json_headers(self.service, target, self.version)
        status, body = await self.connection.request("POST", "/", headers, json.dumps(document).encode())
        if status != 200:
            raise HttpError(status, body)
        return json.loads(body) if body else {}


class RestClient:
    """rest-json calls (Lambda): `await client.call("POST", "/2015-03-31/functions/f/invocations", b"{}")`."""

    def __init__(self, connection: Connection, service: str) -> None:
        self.connection = connection
        self.headers = signed_headers(service)

    async def call(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        return await self.connection.request(method, path, self.headers, body)


@dataclass
class Tally:
    """What one process's coroutines did: calls, items (messages, records...), sampled latencies."""

    calls: int = 0
    items: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self, items: int, started: float) -> None:
        self.calls += 1
        self.items += items
        if len(self.latencies) < 50_000 or random.random() < 0.05:
            self.latencies.append(time.perf_counter() - started)


# A scenario: one coroutine's loop, given its connection, the deadline, its tally and the process's
# arguments. It must return when time.monotonic() passes the deadline.
Scenario = Callable[[Connection, float, Tally, Any], Awaitable[None]]


def _process(scenario: Scenario, host: str, port: int, concurrency: int, seconds: float, args: Any,
             out: Any) -> None:
    if uvloop is not None:
        uvloop.install()
    tally = Tally()

    async def main() -> None:
        deadline = time.monotonic() + seconds

        async def one() -> None:
            connection = await Connection(host, port).open()
            try:
                await scenario(connection, deadline, tally, args)
            finally:
                connection.close()

        results = await asyncio.gather(*(one() for _ in range(concurrency)), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            tally.errors += len(failures)
            tally.extra["failure"] = repr(failures[0])[:300]

    asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    tally.extra["cpu"] = usage.ru_utime + usage.ru_stime
    out.put(tally)


def run_processes(scenario: Scenario, url: str, processes: int, concurrency: int, seconds: float,
                  args: Any = None, per_process_args: list[Any] | None = None) -> tuple[Tally, float]:
    """Run `scenario` in `processes` processes x `concurrency` connections; (merged tally, elapsed)."""
    host, port = url.removeprefix("http://").split(":")
    context = mp.get_context("fork")
    out: Any = context.Queue()
    started = time.monotonic()
    procs = [context.Process(target=_process, args=(scenario, host, int(port), concurrency, seconds,
                                                    per_process_args[i] if per_process_args else args, out))
             for i in range(processes)]
    for proc in procs:
        proc.start()
    tallies = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    merged = Tally()
    for tally in tallies:
        merged.calls += tally.calls
        merged.items += tally.items
        merged.errors += tally.errors
        merged.latencies.extend(tally.latencies)
        for key, value in tally.extra.items():
            if isinstance(value, (int, float)) and isinstance(merged.extra.get(key, 0), (int, float)):
                merged.extra[key] = merged.extra.get(key, 0) + value
            else:
                merged.extra.setdefault(key, value)
    return merged, elapsed


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure(scenario_name: str, server: str, server_pid: int | None, url: str, scenario: Scenario,
            processes: int, concurrency: int, seconds: float, unit: str, args: Any = None,
            per_process_args: list[Any] | None = None, count: str = "items") -> tuple[Measurement, Tally]:
    """Run a raw scenario and turn it into a table row (`count`: rate of "items" or "calls")."""
    window = CpuWindow(server_pid)
    tally, elapsed = run_processes(scenario, url, processes, concurrency, seconds, args, per_process_args)
    _, server_cores, _ = window.close()
    client_cores = float(tally.extra.get("cpu", 0.0)) / elapsed
    rate = (tally.items if count == "items" else tally.calls) / elapsed
    p50, p99 = percentile(tally.latencies, 0.5), percentile(tally.latencies, 0.99)
    row = Measurement(scenario_name, server, rate, unit, p50 * 1000 if p50 is not None else None,
                      p99 * 1000 if p99 is not None else None, server_cores, client_cores, tally.errors,
                      note=str(tally.extra.get("failure", ""))[:60] if tally.errors else "")
    return row, tally


def run_async(work: Callable[[], Awaitable[Any]]) -> Any:
    """Run set-up or drain work (many raw calls) on a fresh event loop in this process."""
    return asyncio.run(work())

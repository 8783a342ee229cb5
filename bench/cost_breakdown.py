"""Where a hot operation's server CPU goes, layer by layer, next to the machine's floors (issue 19).

    python bench/cost_breakdown.py [--requests 2000] [--workloads sqs-send-batch,sqs-send,...]
                                   [--rules 10000] [--no-http] [--seconds 4]

Measured by CPU clocks, not by throughput, so other work on a shared machine moves the figures
little (it still slows caches; the load average is printed):

1. **In-process** (the ASGI app driven directly, no sockets), one request at a time so each layer's
   time is its own: every thread's CPU clock (`time.pthread_getcpuclockid`) around N requests, and
   thread-CPU timers around the layers: the ASGI call (request and response conversion), the app's
   handling (door checks, routing), the wire protocol's
   parse and serialize, the provider's dispatch on the event loop (validation, provider logic, the
   hand-off to the writer), and on the writer thread the request's transaction function (its SQL)
   apart from the rest of the writer's work (BEGIN/COMMIT, group bookkeeping, waking the loop). Work a
   request leaves behind (EventBridge's deliveries, SNS's outbox deliveries, timers) is what the loop
   and writer spend outside the app calls, up to the moment the server is idle again.
2. **Floors**: an empty `db.write` (the thread hop and an empty transaction) and one with one INSERT;
   SQLite alone (WAL, synchronous=NORMAL, this disk) committing 1 and 100 rows per transaction.
3. **HTTP** (unless --no-http): a trivial ASGI app under uvicorn with httptools and uvloop, and
   Eventyard's server on the same requests, each under wrk at one connection for --seconds; server
   CPU from /proc. Eventyard's CPU per request over the wire minus in-process is what the HTTP server
   and the sockets add.

Every figure is µs of CPU per request (and per item: message, event). A target of R items/s on one
process needs at most 1,000,000 / R µs per item on the event loop's core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from load import CpuWindow, Request, json_call, load_average, run_wrk, signed_headers
from peers import ROOT, Peer, eventyard, free_port

sys.path.insert(0, str(ROOT))

from eventyard.config import Settings  # noqa: E402
from eventyard.server.app import EventyardApp  # noqa: E402

BODY = "x" * 200
SNS_FORM = "application/x-www-form-urlencoded; charset=utf-8"
WORKLOADS = ("sqs-send-batch", "sqs-send", "sqs-receive-delete", "sns-publish", "events-put")


# -- clocks and timers --------------------------------------------------------------------------------
def thread_cpu(ident: int) -> float:
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(ident))
    except (OSError, ProcessLookupError):
        return 0.0


def threads_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, by role: loop (main), writer, readers, other."""
    out: dict[str, float] = defaultdict(float)
    for thread in threading.enumerate():
        if thread.ident is None:
            continue
        role = ("loop" if thread is threading.main_thread() else "writer" if thread.name == "eventyard-db"
                else "readers" if thread.name.startswith("eventyard-db-read") else "other")
        out[role] += thread_cpu(thread.ident)
    return out


@dataclass
class Timers:
    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def sync(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += time.thread_time() - started
        return timed

    def coroutine(self, name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """Thread CPU across an await: right only with one request at a time (nothing else runs meanwhile
        but the work this request started)."""
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.spent[name] += time.thread_time() - started
        return timed


def instrument(app: EventyardApp, timers: Timers) -> None:
    assert app.platform is not None
    app.__dict__["handle"] = timers.coroutine("app", app.handle)
    app.__dict__["_call_service"] = timers.coroutine("call", app._call_service)
    for service in app.platform.services.values():
        for protocol in service.protocols:
            protocol.__dict__["parse"] = timers.sync("parse", protocol.parse)
            protocol.__dict__["serialize"] = timers.sync("serialize", protocol.serialize)
    db = app.platform.db
    write, read = db.write, db.read

    async def timed_write(fn: Callable[[Any], Any], **kwargs: Any) -> Any:
        return await write(timers.sync("transaction", fn), **kwargs)

    async def timed_read(fn: Callable[[Any], Any]) -> Any:
        return await read(timers.sync("read", fn))

    db.__dict__["write"] = timed_write
    db.__dict__["read"] = timed_read


# -- driving the ASGI app -----------------------------------------------------------------------------
ACTIVE: list[Timers] = []  # while measuring: the timers `call` adds the whole ASGI call to


async def call(app: Any, request: Request) -> tuple[int, bytes]:
    body = request.body.encode()
    headers = [(b"host", b"127.0.0.1:4566"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    scope = {"type": "http", "http_version": "1.1", "method": request.method, "path": request.path,
             "raw_path": request.path.encode(), "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 4566), "scheme": "http"}
    sent = False
    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    started = time.thread_time()
    await app(scope, receive, send)
    if ACTIVE:
        ACTIVE[0].spent["asgi"] += time.thread_time() - started
    return answer["status"], answer["body"]


async def ok(app: Any, request: Request) -> dict[str, Any]:
    status, body = await call(app, request)
    if status >= 300:
        raise RuntimeError(f"{request.headers.get('X-Amz-Target') or request.body[:60]} answered {status}: {body[:300]!r}")
    return json.loads(body) if body.startswith(b"{") else {"raw": body.decode()}


def sqs(target: str, document: dict[str, Any]) -> Request:
    return json_call("sqs", f"AmazonSQS.{target}", document)


def sns(params: dict[str, str]) -> Request:
    return Request("POST", "/", signed_headers("sns", SNS_FORM), urlencode({**params, "Version": "2010-03-31"}))


async def wait_idle(app: EventyardApp, quiet: float = 0.3, limit: float = 120.0) -> None:
    """Until the writer has committed nothing new for `quiet` seconds (deliveries done)."""
    assert app.platform is not None
    db: Any = app.platform.db
    deadline = time.monotonic() + limit
    last, since = getattr(db, "requests_committed", 0), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        now = getattr(db, "requests_committed", 0)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


# -- workloads: set-up, then one step (one or more requests) at a time ---------------------------------
@dataclass
class Workload:
    name: str
    items_per_step: int
    requests_per_step: int
    setup: Callable[[Any, int], Awaitable[Any]]
    step: Callable[[Any, Any, int], Awaitable[None]]
    requests: Callable[[Any], list[Request]] | None = None  # for the HTTP comparison (wrk)


async def queue_url(app: Any, name: str) -> str:
    return str((await ok(app, sqs("CreateQueue", {"QueueName": name})))["QueueUrl"])


async def setup_queue(app: Any, steps: int) -> str:
    return await queue_url(app, f"bench-{time.monotonic_ns()}")


def send_batch(url: str, n: int) -> Request:
    return sqs("SendMessageBatch", {"QueueUrl": url, "Entries": [
        {"Id": str(i), "MessageBody": f"{n % 10000:04d}{BODY[4:]}"} for i in range(10)]})


async def setup_filled(app: Any, steps: int) -> str:
    url = await setup_queue(app, steps)
    for n in range(steps + warm_up(steps) + 5):
        await ok(app, send_batch(url, n))
    return url


async def receive_delete(app: Any, url: str, n: int) -> None:
    got = (await ok(app, sqs("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10}))).get("Messages", [])
    if len(got) != 10:
        raise RuntimeError(f"received {len(got)} messages, not 10")
    await ok(app, sqs("DeleteMessageBatch", {"QueueUrl": url, "Entries": [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]}))


async def setup_topic(app: Any, steps: int) -> str:
    tag = time.monotonic_ns()
    topic = (await ok(app, sns({"Action": "CreateTopic", "Name": f"bench-{tag}"})))["raw"]
    arn = topic.split("<TopicArn>")[1].split("</TopicArn>")[0]
    for i in range(3):
        url = await queue_url(app, f"bench-{tag}-{i}")
        attributes = await ok(app, sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]}))
        await ok(app, sns({"Action": "Subscribe", "TopicArn": arn, "Protocol": "sqs",
                           "Endpoint": attributes["Attributes"]["QueueArn"],
                           "Attributes.entry.1.key": "RawMessageDelivery", "Attributes.entry.1.value": "true"}))
    return arn


def publish(topic: str, n: int) -> Request:
    return sns({"Action": "Publish", "TopicArn": topic, "Message": json.dumps({"n": n, "pad": BODY[:100]})})


def make_setup_rules(rules: int) -> Callable[[Any, int], Awaitable[Any]]:
    async def setup(app: Any, steps: int) -> int:
        url = await queue_url(app, "bench-events")
        arn = (await ok(app, sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]})))
        target = arn["Attributes"]["QueueArn"]
        for i in range(rules):
            await ok(app, json_call("events", "AWSEvents.PutRule", {"Name": f"r-{i}", "EventPattern": json.dumps(
                {"source": ["bench.e"], "detail": {"k": [i]}})}, "1.1"))
            await ok(app, json_call("events", "AWSEvents.PutTargets", {"Rule": f"r-{i}", "Targets": [
                {"Id": "q", "Arn": target}]}, "1.1"))
        return rules
    return setup


def put_events(rules: int, n: int) -> Request:
    return json_call("events", "AWSEvents.PutEvents", {"Entries": [
        {"Source": "bench.e", "DetailType": "bench", "Detail": json.dumps({"k": (n * 10 + i) * 7919 % rules,
                                                                           "pad": "x" * 64})} for i in range(10)]},
                     "1.1")


def workloads(rules: int) -> dict[str, Workload]:
    async def one(app: Any, context: Any, n: int, make: Callable[[Any, int], Request]) -> None:
        await ok(app, make(context, n))

    return {
        "sqs-send-batch": Workload("SQS SendMessageBatch (10 x 200 B)", 10, 1, setup_queue,
                                   lambda app, c, n: one(app, c, n, send_batch),
                                   lambda c: [send_batch(c, n) for n in range(16)]),
        "sqs-send": Workload("SQS SendMessage (200 B)", 1, 1, setup_queue,
                             lambda app, c, n: one(app, c, n, lambda u, _n: sqs(
                                 "SendMessage", {"QueueUrl": u, "MessageBody": BODY})),
                             lambda c: [sqs("SendMessage", {"QueueUrl": c, "MessageBody": BODY})]),
        "sqs-receive-delete": Workload("SQS ReceiveMessage 10 + DeleteMessageBatch", 10, 2, setup_filled,
                                       receive_delete),
        "sns-publish": Workload("SNS Publish to 3 SQS subscriptions (raw)", 1, 1, setup_topic,
                                lambda app, c, n: one(app, c, n, publish), lambda c: [publish(c, n) for n in range(8)]),
        "events-put": Workload(f"EventBridge PutEvents (10 events, {rules:,} rules -> SQS)", 10, 1,
                               make_setup_rules(rules), lambda app, c, n: one(app, c, n, put_events),
                               lambda c: [put_events(c, n) for n in range(64)]),
    }


def warm_up(steps: int) -> int:
    return min(200, steps)


# -- in-process measurement ---------------------------------------------------------------------------
@dataclass
class Breakdown:
    steps: int
    threads: dict[str, float]
    spent: dict[str, float]
    driver: float  # loop CPU the driver itself spends per step (measured on a dummy app)

    def per_step(self, seconds: float) -> float:
        return seconds / self.steps * 1e6


async def measure(app: EventyardApp, workload: Workload, steps: int, driver: float) -> Breakdown:
    context = await workload.setup(app, steps)
    for n in range(warm_up(steps)):  # caches, compiled shapes, the route of a topic
        await workload.step(app, context, steps + n)
    await wait_idle(app)
    timers = Timers()
    instrument(app, timers)
    ACTIVE.append(timers)
    before = threads_cpu()
    try:
        for n in range(steps):
            await workload.step(app, context, n)
        await wait_idle(app)
    finally:
        ACTIVE.clear()
        for name in ("handle", "_call_service"):
            app.__dict__.pop(name, None)
        assert app.platform is not None
        for service in app.platform.services.values():
            for protocol in service.protocols:
                protocol.__dict__.pop("parse", None)
                protocol.__dict__.pop("serialize", None)
        app.platform.db.__dict__.pop("write", None)
        app.platform.db.__dict__.pop("read", None)
    after = threads_cpu()
    return Breakdown(steps, {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}, dict(timers.spent),
                     driver)


async def driver_cost(steps: int) -> float:
    """Loop CPU per request of this script's own driving (scope, receive/send), on an app that answers at once."""
    async def empty(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    request = sqs("SendMessage", {"QueueUrl": "x", "MessageBody": BODY})
    timers = Timers()
    ACTIVE.append(timers)
    started = time.thread_time()
    try:
        for _ in range(steps):
            await ok(empty, request)
    finally:
        ACTIVE.clear()
    return (time.thread_time() - started - timers.spent["asgi"]) / steps


async def storage_floors(app: EventyardApp, calls: int) -> dict[str, tuple[float, float]]:
    """(loop µs, writer µs) per db.write: empty, and one INSERT."""
    assert app.platform is not None
    db: Any = app.platform.db
    db.run_sync(lambda conn: conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, body TEXT)"))
    out = {}
    for label, fn in (("empty transaction", lambda conn: None),
                      ("one INSERT (200 B)", lambda conn: conn.execute("INSERT INTO bench_floor (body) VALUES (?)",
                                                                         (BODY,)))):
        before = threads_cpu()
        for _ in range(calls):
            await db.write(fn)
        after = threads_cpu()
        out[label] = ((after["loop"] - before["loop"]) / calls * 1e6, (after["writer"] - before["writer"]) / calls * 1e6)
    return out


def sqlite_floor(rows_per_commit: int, commits: int) -> tuple[float, float]:
    """SQLite alone on this disk (WAL, synchronous=NORMAL): (CPU µs, wall µs) per commit."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "floor.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE m (seq INTEGER PRIMARY KEY, queue_id INT, body TEXT, available_at REAL)")
        conn.execute("CREATE INDEX m_visible ON m (queue_id, available_at)")
        rows = [(1, BODY, 0.0)] * rows_per_commit
        cpu, wall = time.thread_time(), time.perf_counter()
        for _ in range(commits):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO m (queue_id, body, available_at) VALUES (?, ?, ?)", rows)
            conn.execute("COMMIT")
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        conn.close()
    return cpu / commits * 1e6, wall / commits * 1e6


# -- HTTP: uvicorn alone and Eventyard over the wire -------------------------------------------------
TRIVIAL_APP = textwrap.dedent("""
    import uvicorn
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})
    uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), loop="uvloop", http="httptools",
                log_level="warning", access_log=False, lifespan="off")
""")


def wire_cost(peer: Peer, requests: list[Request], seconds: float) -> float:
    """Server CPU µs per request under wrk, one connection."""
    window = CpuWindow(peer.pid)
    result = run_wrk(peer.url, requests, 1, seconds)
    elapsed, cores, _ = window.close()
    return cores * elapsed / max(result.requests, 1) * 1e6


def http_floor(seconds: float) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(TRIVIAL_APP)
    port = free_port()
    peer = Peer("uvicorn", [sys.executable, script.name, str(port)], port)
    try:
        peer.start(ready_service="tcp")
        return wire_cost(peer, [sqs("SendMessage", {"QueueUrl": "x", "MessageBody": BODY})], seconds)
    finally:
        peer.stop()
        os.unlink(script.name)


def over_the_wire(chosen: list[str], table: dict[str, Workload], seconds: float) -> dict[str, float]:
    """Eventyard's server CPU per request over HTTP for the workloads wrk can drive (set up with boto3)."""
    out: dict[str, float] = {}
    peer = eventyard()
    peer.start()
    try:
        for key in chosen:
            workload = table[key]
            if workload.requests is None or key == "events-put":
                continue
            context = asyncio.run(_setup_remote(peer, key))
            out[key] = wire_cost(peer, workload.requests(context), seconds)
    finally:
        peer.stop()
    return out


async def _setup_remote(peer: Peer, key: str) -> Any:
    if key.startswith("sqs"):
        return peer.client("sqs").create_queue(QueueName=f"wire-{time.monotonic_ns()}")["QueueUrl"]
    client, queues = peer.client("sns"), peer.client("sqs")
    topic = client.create_topic(Name=f"wire-{time.monotonic_ns()}")["TopicArn"]
    for i in range(3):
        url = queues.create_queue(QueueName=f"wire-{time.monotonic_ns()}-{i}")["QueueUrl"]
        arn = queues.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        client.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return topic


# -- report -------------------------------------------------------------------------------------------
def report(workload: Workload, b: Breakdown, wire: float | None, http_floor_us: float | None) -> str:
    us, per_item = b.per_step, workload.items_per_step
    asgi, app, call = us(b.spent.get("asgi", 0)), us(b.spent.get("app", 0)), us(b.spent.get("call", 0))
    parse, serialize = us(b.spent.get("parse", 0)), us(b.spent.get("serialize", 0))
    loop, writer = us(b.threads.get("loop", 0)), us(b.threads.get("writer", 0))
    readers, other = us(b.threads.get("readers", 0)), us(b.threads.get("other", 0))
    transaction = us(b.spent.get("transaction", 0))
    driver = b.driver * 1e6 * workload.requests_per_step
    rows = [
        ("ASGI adapter: request and response conversion (event loop)", asgi - app),
        ("door checks, routing, signature shape (event loop)", app - call),
        ("protocol parse (event loop)", parse),
        ("protocol serialize (event loop)", serialize),
        ("validation, provider logic, storage hand-off (event loop, in dispatch)", call - parse - serialize),
        ("work left behind: deliveries, timers, recorder loops (event loop, after the answer)", loop - asgi - driver),
        ("transaction functions: the provider's SQL (writer thread)", transaction),
        ("BEGIN/COMMIT, group bookkeeping, waking the loop (writer thread)", writer - transaction),
        ("reads (reader threads)", readers),
        ("other threads (checkpointer, executors)", other),
    ]
    total = sum(value for _, value in rows)
    lines = [f"\n### {workload.name}: {b.steps:,} steps of {workload.requests_per_step} request(s), "
             f"{per_item} item(s) each\n",
             "| layer | µs CPU per request step | µs per item | share |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {label} | {value:,.1f} | {value / per_item:,.1f} | {value / total:.0%} |" for label, value in rows]
    lines.append(f"| **in-process total** | **{total:,.1f}** | **{total / per_item:,.1f}** | |")
    if wire is not None:
        lines.append(f"| over HTTP, 1 connection (wrk; server CPU from /proc) | {wire:,.1f} | {wire / per_item:,.1f} | |")
        lines.append(f"| HTTP server and sockets (over HTTP minus in-process) | {wire - total:,.1f} | "
                     f"{(wire - total) / per_item:,.1f} | |")
    if http_floor_us is not None:
        lines.append(f"| floor: uvicorn+httptools+uvloop answering a trivial app | {http_floor_us:,.1f} | | |")
    return "\n".join(lines)


Floors = dict[str, tuple[float, float]]


async def in_process(chosen: list[str], table: dict[str, Workload], steps: int) -> tuple[dict[str, Breakdown], Floors]:
    data = tempfile.mkdtemp(prefix="bench-breakdown-")
    app = EventyardApp(Settings.from_env(data_dir=Path(data)))
    startup: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    await startup.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if not done.done():
            done.set_result(message)

    life = asyncio.create_task(app({"type": "lifespan"}, startup.get, send))
    if (await done)["type"] != "lifespan.startup.complete":
        raise RuntimeError("Eventyard did not start")
    try:
        driver = await driver_cost(2000)
        results = {key: await measure(app, table[key], steps, driver) for key in chosen}
        floors = await storage_floors(app, 2000)
    finally:
        await startup.put({"type": "lifespan.shutdown"})
        await life
        shutil.rmtree(data, ignore_errors=True)
    return results, floors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="request steps per workload")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--rules", type=int, default=10_000, help="EventBridge rules for events-put")
    parser.add_argument("--seconds", type=float, default=4.0, help="wrk seconds per HTTP measurement")
    parser.add_argument("--no-http", action="store_true")
    opts = parser.parse_args()
    chosen = [w for w in opts.workloads.split(",") if w]
    table = workloads(opts.rules)
    print(f"# cost breakdown, load average before: {load_average()}")
    try:
        import uvloop
        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    results, floors = runner(in_process(chosen, table, opts.requests))
    print(f"# in-process done, load average: {load_average()}")
    wire: dict[str, float] = {}
    floor_us = None
    if not opts.no_http:
        floor_us = http_floor(opts.seconds)
        wire = over_the_wire(chosen, table, opts.seconds)
    for key in chosen:
        print(report(table[key], results[key], wire.get(key), floor_us))
    print("\n### Floors\n\n| floor | loop µs | writer µs |\n| --- | ---: | ---: |")
    for label, (loop_us, writer_us) in floors.items():
        print(f"| db.write: {label} (one at a time) | {loop_us:,.1f} | {writer_us:,.1f} |")
    for rows in (1, 10, 100):
        cpu, wall = sqlite_floor(rows, 2000 if rows < 100 else 500)
        print(f"| SQLite alone: {rows} row(s) per commit: CPU µs per commit (wall µs) | | {cpu:,.1f} ({wall:,.1f}); "
              f"{cpu / rows:,.1f} per row |")
    if floor_us is not None:
        print(f"| uvicorn+httptools+uvloop, trivial ASGI app, 1 connection (wrk) | {floor_us:,.1f} | |")
    print(f"\n# load average after: {load_average()}")


if __name__ == "__main__":
    main()

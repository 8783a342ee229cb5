"""Which node does what: node liveness and named leases for work that must run once across nodes.

Every Eventyard process is a node: it registers itself and renews its heartbeat every few seconds.
A node that stops heartbeating for `ttl` seconds (killed, partitioned, hung) is dead, and everything
it owned (its leases, the timers it claimed) can be taken by a live node. A named lease ("sqs:retention",
"lambda:esm:<uuid>") has one owner and an expiry; the owner renews it with its heartbeat, and another
node takes it only once it expired. Times are the host's wall clock, never the test clock: liveness is
about processes, not about the domain's time. On SQLite there is one process, so its start clears
whatever an earlier process of the same file left.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from eventyard.runtime.supervisor import Supervisor
from eventyard.storage import Connection, Database, Migration

log = logging.getLogger(__name__)

MIGRATIONS = [
    Migration(
        "runtime-0002-nodes-and-leases",
        """
        CREATE TABLE nodes (
            node_id TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid BIGINT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            seen_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )
        """,
    )
]

DEFAULT_TTL = 10.0  # seconds without a heartbeat after which a node is dead (EVENTYARD_NODE_TTL)
FORGET_AFTER = 3600.0  # dead nodes' rows are deleted after this long (they are only informative)

WallClock = Callable[[], float]


def node_ttl() -> float:
    return float(os.environ.get("EVENTYARD_NODE_TTL", DEFAULT_TTL))


def live_nodes_sql() -> str:
    """A subquery of the ids of live nodes; its one parameter is the oldest live heartbeat time."""
    return "SELECT node_id FROM nodes WHERE seen_at > ?"


def take(conn: Connection, name: str, owner: str, now: float, ttl: float) -> bool:
    """Take or renew the lease `name` for `owner` unless another owner holds it unexpired."""
    row = conn.execute(
        "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at"
        " WHERE leases.owner = excluded.owner OR leases.expires_at <= ?"
        " RETURNING owner",
        (name, owner, now + ttl, now),
    ).fetchone()
    return row is not None


class Leases:
    """This node's identity, heartbeat and leases."""

    def __init__(self, db: Database, node_id: str, ttl: float | None = None, wall: WallClock = time.time) -> None:
        self.db = db
        self.node_id = node_id
        self.ttl = node_ttl() if ttl is None else ttl
        self.wall = wall
        self.held: dict[str, float] = {}  # lease name -> when it expires unless renewed

    def live_since(self) -> float:
        """Heartbeats newer than this are live nodes'."""
        return self.wall() - self.ttl

    async def register(self) -> None:
        """Join: record this node; on SQLite (one process) forget every earlier process's claims. A node
        of this host whose process is gone (killed, then this one started in its place) is dead at once:
        its work need not wait for its heartbeat to expire."""
        now, node, shared, host = self.wall(), self.node_id, self.db.shared, socket.gethostname()

        def join(conn: Connection) -> None:
            if not shared:
                conn.execute("DELETE FROM nodes")
                conn.execute("DELETE FROM leases")
            for row in conn.execute("SELECT node_id, pid FROM nodes WHERE host = ?", (host,)).fetchall():
                if not _process_alive(int(row[1])):
                    conn.execute("DELETE FROM nodes WHERE node_id = ?", (row[0],))
                    conn.execute("DELETE FROM leases WHERE owner = ?", (row[0],))
            conn.execute("INSERT INTO nodes (node_id, host, pid, started_at, seen_at) VALUES (?, ?, ?, ?, ?)",
                         (node, socket.gethostname(), os.getpid(), now, now))

        await self.db.write(join)

    def supervise(self, supervisor: Supervisor) -> None:
        supervisor.loop("leases:heartbeat", self.heartbeat, self.ttl / 4)

    async def heartbeat(self) -> None:
        """Renew this node's liveness and every lease it holds (a lease lost meanwhile is dropped)."""
        now, node, ttl = self.wall(), self.node_id, self.ttl

        def beat(conn: Connection) -> set[str]:
            updated = conn.execute("UPDATE nodes SET seen_at = ? WHERE node_id = ?", (now, node)).rowcount
            if not updated:  # declared dead by a long pause and forgotten: join again
                conn.execute("INSERT INTO nodes (node_id, host, pid, started_at, seen_at) VALUES (?, ?, ?, ?, ?)",
                             (node, socket.gethostname(), os.getpid(), now, now))
            conn.execute("DELETE FROM nodes WHERE seen_at < ?", (now - FORGET_AFTER,))
            rows = conn.execute("UPDATE leases SET expires_at = ? WHERE owner = ? AND expires_at > ? RETURNING name",
                                (now + ttl, node, now)).fetchall()
            return {row[0] for row in rows}

        renewed = await self.db.write(beat)
        lost = set(self.held) - renewed
        if lost:
            log.warning("node %s lost leases %s", node, ", ".join(sorted(lost)))
        self.held = {name: now + ttl for name in renewed}

    async def hold(self, name: str) -> bool:
        """Whether this node holds `name` now, taking it if it is free or expired. A lease held with
        more than half its time left needs no write (the heartbeat renews it)."""
        now, node, ttl = self.wall(), self.node_id, self.ttl
        if self.held.get(name, 0.0) > now + ttl / 2:
            return True
        taken = await self.db.write(lambda conn: take(conn, name, node, now, ttl))
        if taken:
            self.held[name] = now + ttl
        else:
            self.held.pop(name, None)
        return taken

    async def taken_by_others(self, prefix: str) -> set[str]:
        """Names of leases starting with `prefix` that another node holds unexpired (one read, so a
        node need not try, and write, for each lease it cannot have)."""
        now, node = self.wall(), self.node_id
        rows = await self.db.read(lambda conn: conn.execute(
            "SELECT name FROM leases WHERE substr(name, 1, ?) = ? AND owner != ? AND expires_at > ?",
            (len(prefix), prefix, node, now)).fetchall())
        return {row[0] for row in rows}

    async def release(self, name: str) -> None:
        node = self.node_id
        self.held.pop(name, None)
        await self.db.write(lambda conn: conn.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, node)))

    async def leave(self) -> None:
        """A clean stop: other nodes may take this node's leases and claimed timers at once."""
        node = self.node_id

        def part(conn: Connection) -> None:
            conn.execute("DELETE FROM leases WHERE owner = ?", (node,))
            conn.execute("DELETE FROM nodes WHERE node_id = ?", (node,))

        await self.db.write(part)
        self.held.clear()

    def once(self, name: str, work: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """`work` wrapped to run only on the node holding the lease `name` (a sweep's leader)."""

        async def run_if_leader() -> None:
            if await self.hold(name):
                await work()

        return run_if_leader


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True

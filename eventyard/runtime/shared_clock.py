"""The test clock's offset, shared by every node of a database.

`POST /_eventyard/clock` (with EVENTYARD_CLOCK_CONTROL=1) moves time forward for tests. With several
nodes on one database, a visibility timeout or a schedule must fall due on every node alike, so the
offset lives in the database: the node that moves it writes it and signals; every node adopts the
largest offset it has seen (time never moves back), on the signal and at start.
"""

from __future__ import annotations

from eventyard.runtime.clock import SystemClock
from eventyard.storage import Connection, Database, Migration

MIGRATIONS = [
    Migration("runtime-0004-clock-offset",
              "CREATE TABLE clock_offsets (id TEXT PRIMARY KEY, seconds DOUBLE PRECISION NOT NULL)"),
]
CHANNEL = "clock"


def _advance(conn: Connection, seconds: float) -> float:
    row = conn.execute(
        "INSERT INTO clock_offsets (id, seconds) VALUES ('test', ?)"
        " ON CONFLICT (id) DO UPDATE SET seconds = clock_offsets.seconds + excluded.seconds RETURNING seconds",
        (seconds,),
    ).fetchone()
    return float(row[0])


def _read(conn: Connection) -> float:
    row = conn.execute("SELECT seconds FROM clock_offsets WHERE id = 'test'").fetchone()
    return 0.0 if row is None else float(row[0])


class SharedClock:
    def __init__(self, db: Database, clock: SystemClock) -> None:
        self.db = db
        self.clock = clock

    async def start(self) -> None:
        """Adopt the database's offset (a node joining after a test moved time) and follow changes.
        A single SQLite process keeps its offset in memory, as before: a restart starts at zero."""
        if not self.db.shared:
            return
        self._adopt(await self.db.read(_read))
        self.db.subscribe(CHANNEL, lambda key: self._adopt(float(key)) if key else None)

    async def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        if not self.db.shared:
            self.clock.advance(seconds)
            return

        def run(conn: Connection) -> float:
            offset = _advance(conn, seconds)
            self.db.notify(conn, CHANNEL, repr(offset))
            return offset

        self._adopt(await self.db.write(run))

    def _adopt(self, offset: float) -> None:
        if offset > self.clock.offset:
            self.clock.offset = offset

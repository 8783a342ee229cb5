"""Leases have one owner until they expire; a dead node's timer claims are taken over, a live one's are not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from eventyard.runtime import timers
from eventyard.runtime.clock import ManualClock
from eventyard.runtime.leases import Leases
from eventyard.runtime.timers import Timer, TimerService
from eventyard.storage import SqliteDatabase


class Wall:
    """A hand-driven wall clock for node liveness."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make(tmp_path: Path) -> tuple[SqliteDatabase, Wall]:
    db = SqliteDatabase(tmp_path / "leases.sqlite3")
    db.migrate(timers.MIGRATIONS)
    return db, Wall()


def test_a_lease_has_one_owner_until_it_expires(tmp_path: Path) -> None:
    db, wall = make(tmp_path)
    first, second = Leases(db, "node-a", ttl=10, wall=wall), Leases(db, "node-b", ttl=10, wall=wall)

    async def main() -> None:
        assert await first.hold("sweep")
        assert not await second.hold("sweep")
        wall.now += 6
        await first.heartbeat()  # renewed: good for another 10 s
        wall.now += 6
        assert not await second.hold("sweep")
        wall.now += 10.1  # node-a stopped renewing
        assert await second.hold("sweep")
        assert not await first.hold("sweep")
        await second.release("sweep")
        assert await first.hold("sweep")

    asyncio.run(main())
    db.close()


def test_only_a_dead_nodes_timer_claims_are_taken_over(tmp_path: Path) -> None:
    db, wall = make(tmp_path)
    clock = ManualClock()
    live, dead = Leases(db, "live", ttl=10, wall=wall), Leases(db, "dead", ttl=10, wall=wall)
    db.run_sync(lambda c: [timers.schedule_claimed(c, "job", {"n": n}, clock.now(), owner)
                           for n, owner in ((1, "live"), (2, "dead"))])
    survivor = TimerService(db, clock, Leases(db, "survivor", ttl=10, wall=wall))
    fired: list[object] = []

    async def handler(timer: Timer) -> None:
        fired.append(timer.payload["n"])

    async def main() -> None:
        db.start()
        survivor.register("job", handler)
        for node in (live, dead, survivor.leases):
            await node.heartbeat()  # joins (register() would, on SQLite, forget every other node)
        await survivor.step()
        await asyncio.sleep(0.05)
        assert fired == []  # both owners are alive: their claims stand
        wall.now += 8
        await live.heartbeat()
        wall.now += 5  # "dead" has not been heard of for 13 s
        await survivor.step()
        await asyncio.sleep(0.05)
        assert fired == [2]
        await survivor.stop()

    asyncio.run(main())
    db.close()

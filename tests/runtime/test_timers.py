"""Durable timers fire when due, retry by policy, give up to on_exhausted, and survive restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from eventyard.runtime import timers
from eventyard.runtime.clock import ManualClock
from eventyard.runtime.leases import Leases
from eventyard.runtime.supervisor import Supervisor
from eventyard.runtime.timers import RetryPolicy, Timer, TimerService
from eventyard.storage import SqliteDatabase


def make(tmp_path: Path) -> tuple[SqliteDatabase, ManualClock, TimerService]:
    db = SqliteDatabase(tmp_path / "t.sqlite3")
    db.migrate(timers.MIGRATIONS)
    clock = ManualClock()
    return db, clock, TimerService(db, clock, Leases(db, "test-node"))


async def start_loop(service: TimerService) -> Supervisor:
    await service.recover()
    supervisor = Supervisor()
    service.supervise(supervisor)
    return supervisor


async def run_until(service: TimerService, condition: object, clock: ManualClock, step: float = 1.0) -> None:
    supervisor = await start_loop(service)
    try:
        for _ in range(200):
            if condition():  # type: ignore[operator]
                return
            clock.advance(step)
            service.wake()
            await asyncio.sleep(0.01)
        raise AssertionError("condition not reached")
    finally:
        await supervisor.stop()
        await service.stop()


def test_a_timer_fires_only_once_it_is_due(tmp_path: Path) -> None:
    db, clock, service = make(tmp_path)
    fired: list[tuple[float, dict[str, object]]] = []

    async def handler(timer: Timer) -> None:
        fired.append((clock.now(), timer.payload))

    async def main() -> None:
        db.start()
        service.register("ping", handler)
        start = clock.now()
        await service.schedule("ping", {"n": 1}, delay=10)
        await run_until(service, lambda: fired, clock)
        assert fired[0][0] >= start + 10 and fired[0][1] == {"n": 1}
        assert await db.read(lambda c: c.execute("SELECT COUNT(*) FROM timers").fetchone()[0]) == 0

    asyncio.run(main())
    db.close()


def test_a_failing_timer_is_retried_then_exhausted(tmp_path: Path) -> None:
    db, clock, service = make(tmp_path)
    attempts: list[float] = []
    exhausted: list[str] = []

    async def handler(timer: Timer) -> None:
        attempts.append(clock.now())
        raise RuntimeError("target down")

    async def on_exhausted(timer: Timer, error: BaseException) -> None:
        exhausted.append(str(error))

    async def main() -> None:
        db.start()
        service.register("flaky", handler, RetryPolicy(max_attempts=3, base_delay=2, multiplier=2), on_exhausted)
        await service.schedule("flaky", {})
        await run_until(service, lambda: exhausted, clock, step=0.5)

    asyncio.run(main())
    db.close()
    assert len(attempts) == 3 and exhausted == ["target down"]
    assert attempts[1] - attempts[0] >= 2 and attempts[2] - attempts[1] >= 4  # exponential backoff


def test_timers_survive_a_restart(tmp_path: Path) -> None:
    db, clock, _ = make(tmp_path)
    db.run_sync(lambda c: timers.schedule(c, "later", {"k": "v"}, clock.now() + 5, clock.now()))
    db.close()
    db2 = SqliteDatabase(tmp_path / "t.sqlite3")
    service = TimerService(db2, clock, Leases(db2, "test-node"))
    fired: list[dict[str, object]] = []

    async def handler(timer: Timer) -> None:
        fired.append(timer.payload)

    async def main() -> None:
        db2.start()
        service.register("later", handler)
        await run_until(service, lambda: fired, clock)

    asyncio.run(main())
    db2.close()
    assert fired == [{"k": "v"}]


def test_retry_policy_backoff_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=1, multiplier=3, max_delay=20)
    assert [policy.delay(n) for n in range(1, 6)] == [1, 3, 9, 20, 20]
    jittered = RetryPolicy(base_delay=10, jitter=True)
    assert all(0 <= jittered.delay(1) <= 10 for _ in range(50))


def test_a_claimed_timer_fires_at_once_and_the_loop_leaves_it_alone(tmp_path: Path) -> None:
    db, clock, service = make(tmp_path)
    fired: list[int] = []

    async def handler(timer: Timer) -> None:
        fired.append(timer.id)

    async def main() -> None:
        db.start()
        service.register("now", handler)
        supervisor = await start_loop(service)
        now = clock.now()
        timer = await db.write(lambda conn: timers.schedule_claimed(conn, "now", {"n": 1}, now))
        assert timer.attempts == 1 and timer.payload == {"n": 1}
        service.fire(timer)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if fired and not await db.read(lambda c: c.execute("SELECT COUNT(*) FROM timers").fetchone()[0]):
                break
        await supervisor.stop()
        await service.stop()
        assert fired == [timer.id]  # fired once: its lease kept the loop from claiming it too
        assert await db.read(lambda c: c.execute("SELECT COUNT(*) FROM timers").fetchone()[0]) == 0

    asyncio.run(main())
    db.close()


def test_a_claimed_timer_that_never_ran_fires_after_a_restart(tmp_path: Path) -> None:
    db, clock, service = make(tmp_path)
    now = clock.now()
    db.run_sync(lambda conn: timers.schedule_claimed(conn, "late", {"n": 2}, now))  # then the process "dies"
    fired: list[dict[str, object]] = []

    async def handler(timer: Timer) -> None:
        fired.append(timer.payload)

    async def main() -> None:
        db.start()
        service.register("late", handler)
        await run_until(service, lambda: fired, clock)
        assert fired == [{"n": 2}]

    asyncio.run(main())
    db.close()

"""Background loops survive failures, report them, recover, and are started again if they end."""

from __future__ import annotations

import asyncio
from pathlib import Path

from eventyard.runtime import timers
from eventyard.runtime.clock import ManualClock
from eventyard.runtime.leases import Leases
from eventyard.runtime.supervisor import Supervisor
from eventyard.runtime.timers import Timer, TimerService
from eventyard.storage import SqliteDatabase


async def wait_until(condition: object, rounds: int = 2000) -> None:
    for _ in range(rounds):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


def test_a_failing_step_degrades_the_loop_and_a_later_success_restores_it() -> None:
    async def main() -> None:
        supervisor = Supervisor()
        outcomes = [RuntimeError("disk I/O error"), RuntimeError("disk I/O error"), None]
        calls: list[int] = []

        async def step() -> float:
            calls.append(1)
            if outcomes:
                outcome = outcomes.pop(0)
                if outcome is not None:
                    raise outcome
            return 0.01

        supervisor.loop("work", step, 0.01)
        await wait_until(lambda: supervisor.status("work").failures == 1)
        assert supervisor.states()["work"] == "degraded: RuntimeError: disk I/O error"
        await wait_until(lambda: not outcomes and supervisor.states()["work"] == "running")
        await wait_until(lambda: len(calls) > 5)  # it goes on stepping after recovering
        await supervisor.stop()

    asyncio.run(main())


def test_a_loop_whose_task_is_cancelled_from_outside_is_started_again() -> None:
    async def main() -> None:
        supervisor = Supervisor()
        steps: list[int] = []

        async def step() -> float:
            steps.append(1)
            return 0.01

        supervisor.loop("work", step, 0.01)
        await wait_until(lambda: steps)
        entry_task = [t for t in asyncio.all_tasks() if t.get_name() == "loop:work"][0]
        entry_task.cancel()
        await wait_until(lambda: supervisor.status("work").restarts == 1)
        before = len(steps)
        await wait_until(lambda: len(steps) > before + 2)
        assert supervisor.states()["work"] == "running"
        await supervisor.stop()

    asyncio.run(main())


class FlakyDatabase(SqliteDatabase):
    """Fails the next `failures` writes as SQLite does when another process holds the write lock."""

    failures = 0

    async def write(self, fn, **options):  # type: ignore[no-untyped-def, override]
        if self.failures:
            self.failures -= 1
            raise OSError("database is locked")
        return await super().write(fn, **options)

    read = write


def test_the_timer_loop_keeps_firing_after_storage_errors(tmp_path: Path) -> None:
    db = FlakyDatabase(tmp_path / "t.sqlite3")
    db.migrate(timers.MIGRATIONS)
    clock = ManualClock()
    service = TimerService(db, clock, Leases(db, "test-node"))
    fired: list[dict[str, object]] = []

    async def handler(timer: Timer) -> None:
        fired.append(timer.payload)

    async def main() -> None:
        db.start()
        service.register("ping", handler)
        supervisor = Supervisor()
        await service.recover()
        db.failures = 3
        service.supervise(supervisor)
        await wait_until(lambda: supervisor.status("timers").failures >= 1)
        assert supervisor.states()["timers"].startswith("degraded: OSError: database is locked")
        await wait_until(lambda: db.failures == 0 and supervisor.states()["timers"] == "running")
        await service.schedule("ping", {"n": 1}, delay=5)
        clock.advance(5)
        service.wake()
        await wait_until(lambda: fired == [{"n": 1}])
        await supervisor.stop()
        await service.stop()

    asyncio.run(main())
    db.close()


def test_a_failing_job_runs_again_and_reports_degraded_while_it_waits() -> None:
    async def main() -> None:
        supervisor = Supervisor()
        runs: list[int] = []

        async def work() -> None:
            runs.append(1)
            if len(runs) < 3:
                raise ConnectionError("storage unavailable")

        task = supervisor.job("stepfunctions:exec-1", work)
        await wait_until(lambda: "stepfunctions:exec-1" in supervisor.states())
        assert supervisor.states()["stepfunctions:exec-1"] == "degraded: ConnectionError: storage unavailable"
        await task
        assert len(runs) == 3
        assert supervisor.states() == {}  # a finished job leaves no trace
        await supervisor.stop()

    asyncio.run(main())

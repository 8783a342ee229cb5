"""Background loops that cannot die silently.

Every loop the server runs in the background (the timer loop, sweeps, flushers) is a *step* called
over and over by the `Supervisor`. A step that raises does not end the loop: the supervisor marks it
`degraded` with the reason, logs once per episode of failures (not once per failed step), backs off
and tries again; the first step that succeeds afterwards marks it `running` again. A loop's task
that ends for any other reason than shutdown is started again. `/_eventyard/health` shows each
loop's state, so a storage outage is visible instead of silently stopping deliveries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# A step returns how long to wait before the next one (None: the loop's interval).
Step = Callable[[], Awaitable[float | None]]

FIRST_BACKOFF = 0.05
MAX_BACKOFF = 5.0


@dataclass
class LoopState:
    name: str
    state: str = "starting"  # starting | running | degraded
    reason: str = ""
    failures: int = 0  # consecutive failed steps in the current episode
    restarts: int = 0

    def describe(self) -> str:
        return f"degraded: {self.reason}" if self.state == "degraded" else self.state


@dataclass
class _Loop:
    step: Step
    interval: float
    wake: asyncio.Event | None
    status: LoopState
    first_pause: float = 0.0
    task: asyncio.Task[None] | None = None
    backoff: float = FIRST_BACKOFF
    stopped: bool = field(default=False)


class Supervisor:
    """Runs named loops of steps; restarts them, backs off on failure, reports their states."""

    def __init__(self) -> None:
        self._loops: dict[str, _Loop] = {}
        self._failing_jobs: dict[str, str] = {}  # jobs waiting to be run again after a failure
        self._jobs: set[asyncio.Task[None]] = set()

    def loop(self, name: str, step: Step, interval: float, wake: asyncio.Event | None = None,
             first_pause: float = 0.0) -> None:
        """Run `step` every `interval` seconds (or sooner when `wake` is set) until `stop`."""
        if name in self._loops:
            raise ValueError(f"a loop named {name!r} is already supervised")
        entry = _Loop(step, interval, wake, LoopState(name), first_pause)
        self._loops[name] = entry
        self._start(entry)

    def every(self, name: str, interval: float, work: Callable[[], Awaitable[object]]) -> None:
        """A sweep: wait `interval`, run `work`, repeat. Healthy until a run fails."""

        async def step() -> None:
            await work()

        self.loop(name, step, interval, first_pause=interval)
        self._loops[name].status.state = "running"

    def job(self, name: str, work: Callable[[], Awaitable[object]]) -> asyncio.Task[None]:
        """A long-running piece of work (an event source poller, an execution's driver) that is run
        again, after a back-off, whenever it fails. It ends when `work` returns or the task is
        cancelled; while it waits to be run again, health reports it as degraded."""

        async def run() -> None:
            backoff = FIRST_BACKOFF
            try:
                while True:
                    try:
                        await work()
                        return
                    except asyncio.CancelledError:
                        raise
                    except Exception as error:
                        reason = f"{type(error).__name__}: {error}"
                        if name not in self._failing_jobs:
                            log.error("%s failed; running it again: %s", name, reason, exc_info=error)
                        self._failing_jobs[name] = reason
                        await asyncio.sleep(backoff)
                        backoff = min(MAX_BACKOFF, backoff * 2)
                        self._failing_jobs.pop(name, None)
            finally:
                self._failing_jobs.pop(name, None)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return task

    def states(self) -> dict[str, str]:
        states = {name: entry.status.describe() for name, entry in self._loops.items()}
        states.update({name: f"degraded: {reason}" for name, reason in self._failing_jobs.items()})
        return states

    def status(self, name: str) -> LoopState:
        return self._loops[name].status

    async def stop(self) -> None:
        for entry in self._loops.values():
            entry.stopped = True
            if entry.task is not None:
                entry.task.cancel()
        for job in self._jobs:
            job.cancel()
        tasks = [entry.task for entry in self._loops.values() if entry.task is not None] + list(self._jobs)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._loops.clear()

    # -- internals ------------------------------------------------------------------------
    def _start(self, entry: _Loop) -> None:
        entry.task = asyncio.get_running_loop().create_task(self._run(entry), name=f"loop:{entry.status.name}")
        entry.task.add_done_callback(lambda task: self._ended(entry, task))

    def _ended(self, entry: _Loop, task: asyncio.Task[None]) -> None:
        if entry.stopped:
            return
        # Only cancellation from outside (not `stop`) or a BaseException can end `_run`: start again.
        reason = "cancelled" if task.cancelled() else repr(task.exception())
        log.error("background loop %s ended (%s); starting it again", entry.status.name, reason)
        entry.status.restarts += 1
        self._mark_failed(entry, f"loop ended: {reason}")
        self._start(entry)

    async def _run(self, entry: _Loop) -> None:
        pause: float | None = entry.backoff if entry.status.restarts else entry.first_pause
        while True:
            await self._pause(entry, pause)
            try:
                pause = await entry.step()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._mark_failed(entry, f"{type(error).__name__}: {error}", error)
                pause = entry.backoff
                entry.backoff = min(MAX_BACKOFF, entry.backoff * 2)
                continue
            self._mark_ok(entry)

    async def _pause(self, entry: _Loop, pause: float | None) -> None:
        seconds = entry.interval if pause is None else pause
        if entry.wake is None:
            await asyncio.sleep(seconds)
            return
        if seconds <= 0 and not entry.wake.is_set():
            await asyncio.sleep(0)
            return
        try:
            await asyncio.wait_for(entry.wake.wait(), seconds)
        except TimeoutError:
            pass
        entry.wake.clear()

    def _mark_failed(self, entry: _Loop, reason: str, error: BaseException | None = None) -> None:
        status = entry.status
        if status.state != "degraded":  # the first failure of an episode is logged in full
            log.error("background loop %s is degraded: %s", status.name, reason, exc_info=error)
        else:
            log.debug("background loop %s still failing: %s", status.name, reason)
        status.state, status.reason = "degraded", reason
        status.failures += 1

    def _mark_ok(self, entry: _Loop) -> None:
        status = entry.status
        if status.state == "degraded":
            log.warning("background loop %s recovered after %d failed attempts", status.name, status.failures)
        status.state, status.reason, status.failures = "running", "", 0
        entry.backoff = FIRST_BACKOFF

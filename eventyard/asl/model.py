"""The engine's shared types: what a state executor (Task, Map, Parallel), the interpreter and a
host (the Step Functions runner, TestState, the tests' manual host) exchange. Every module of the
engine imports these from here, at the top, so no executor needs the interpreter module itself:
an executor is handed the running interpreter as an `Engine`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from eventyard.asl.history import History, Lane
from eventyard.asl.templates import Scope

MAX_PAYLOAD = 256 * 1024  # AWS: the largest input, output or task result a state may have (bytes)
# What a state's run answers: the next state (None: the end), its output, the variables it assigned.
StateOutcome = tuple[str | None, Any, dict[str, Any] | None]


@dataclass
class TaskRequest:
    resource: str
    parameters: Any
    state_name: str
    timeout: float | None
    heartbeat: float | None
    task_token: str | None
    context: dict[str, Any]
    lane: Lane
    credentials: str | None = None  # the role ARN of the task's Credentials (evaluated)
    started_at: float | None = None  # when the task started: TimeoutSeconds counts from here
    resumed: bool = False  # a durable token task picked up again after a restart: its token is not new
    # a .waitForTaskToken call was made (the service's answer): AWS records TaskSubmitted
    on_submitted: Callable[[Any], None] | None = None
    # an activity worker took the task (GetActivityTask, with its workerName): AWS records ActivityStarted
    on_started: Callable[[str | None], Awaitable[None]] | None = None


class Suspend(Exception):
    """Raised by a host to stop a top-level execution at a durable Wait, or because the execution
    was stopped meanwhile; a suspended execution resumes later (or never, once stopped)."""


class Retriable(Exception):
    """TestState only: the tested state failed with an error one of its retriers would retry (AWS
    answers RETRIABLE instead of waiting out the back-off)."""

    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class Checkpoint:
    """Where a top-level execution stands between two states."""

    state: str | None  # next state to run (None: finished)
    input: Any
    variables: dict[str, Any]
    waiting_until: float | None = None
    # Inside the state: a retry back-off ("retry") or a task waiting for its token ("task"), with the
    # state's StateEntered event id, its retry counters and (for "task") the token.
    resume: dict[str, Any] | None = None


Transition = Callable[[Checkpoint], Awaitable[None]]


class FrameHooks(Protocol):
    """Durable points of a frame (the top level, or a unit: a Map iteration or Parallel branch of a
    top-level state): a Wait, a retry back-off and a task about to hand out its token are committed
    here. The top level's hooks raise Suspend for Waits and back-offs; a unit's return, and the
    engine sleeps in memory (the commit says where to pick up after a restart)."""

    async def wait(self, name: str, until: float, checkpoint: Checkpoint) -> None: ...

    async def retry(self, until: float, checkpoint: Checkpoint) -> None: ...

    async def task(self, checkpoint: Checkpoint, request: TaskRequest) -> None: ...

    async def recorded(self) -> None:
        """Commit the events recorded while a task waits (an activity's ActivityStarted), where the
        frame stands unchanged."""


class UnitStore(Protocol):
    """Commits of a top-level Map's iterations and Parallel's branches (see units.py)."""

    async def begin(self, checkpoint: Checkpoint) -> None:
        """Commit the top-level state's own events and a checkpoint that says its units run."""

    async def save(self, index: int, record: dict[str, Any], request: TaskRequest | None = None) -> None:
        """Commit one unit's record (with a task's token when `request` is given)."""


class MapRunRecorder(Protocol):
    """Records a distributed Map's Map Run: its start, each child execution's end, its end."""

    async def start(self, run_arn: str, total_items: int, total_executions: int, max_concurrency: int,
                    tolerated_count: float, tolerated_pct: float, done: dict[str, tuple[int, int]],
                    limiter: Any = None) -> None: ...

    def child(self, run_arn: str, items: int, status: str) -> None: ...

    async def tolerated(self, run_arn: str) -> tuple[float, float]: ...

    async def end(self, run_arn: str, status: str) -> None: ...


@dataclass
class Frame:
    """One run of a list of states: the execution, a Parallel branch or a Map iteration."""

    states: dict[str, Any]
    query_language: str
    variables: dict[str, Any]
    lane: Lane
    map_item: dict[str, Any] | None = None
    top: bool = False
    hooks: FrameHooks | None = None
    resume: dict[str, Any] | None = None  # from a checkpoint: the state to pick up inside
    picked_up: dict[str, Any] | None = None  # the resume record the running state's attempt consumes
    progress: dict[str, Any] | None = None  # the running state's retry counters


class Host(Protocol):
    def now(self) -> float: ...

    async def sleep_until(self, when: float) -> None: ...

    async def run_task(self, request: TaskRequest, interpreter: Engine) -> Any: ...

    async def resource_exists(self, resource: str) -> bool:
        """Whether a task's resource (an activity ARN) exists: AWS checks before scheduling it."""


Attempt = Callable[[Scope], Awaitable[Any]]
Finish = Callable[[Any, Scope], tuple[Any, dict[str, Any] | None]]


class Engine(Protocol):
    """What the state executors use of the running interpreter."""

    history: History
    host: Host
    state_machine: dict[str, Any]
    region: str
    units: UnitStore | None
    map_runs: MapRunRecorder | None
    token_factory: Callable[[], str] | None
    map_iteration_failures: int  # TestState: how many of a mocked Map's iterations failed

    async def run_frame(self, frame: Frame, start: str, input_: Any) -> Any: ...

    def child(self, history: History) -> Engine:
        """An engine for a distributed Map's child execution: its own history, no durable points."""

    def states_var(self, scope: Scope, raw: Any, **extra: Any) -> dict[str, Any]: ...

    def input_path(self, state: dict[str, Any], raw: Any, scope: Scope) -> Any: ...

    def finish_selected(self, state: dict[str, Any], raw: Any, result: Any, scope: Scope,
                        jsonata: bool) -> tuple[Any, dict[str, Any] | None]: ...

    def record_evaluation_failed(self, frame: Frame, name: str, err: Any) -> None: ...

    def inspect(self, scope: Scope, stage: str, value: Any) -> None:
        """TestState's inspection: the inspected state's data after `stage`."""

    def mocked(self, name: str) -> tuple[str, Any] | None:
        """TestState's mock of a state's result: ("result", value) or ("error", (error, cause))."""

    async def with_error_handling(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                                  jsonata: bool, attempt: Attempt, finish: Finish) -> StateOutcome: ...


def type_name(value: Any) -> str:
    """A JSON value's type as AWS's messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"

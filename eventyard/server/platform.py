"""Everything that lives for the server's lifetime: settings, clock, storage and the services.

Created in the ASGI lifespan, so nothing mutable is global (DESIGN: no global mutable state).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from eventyard import __version__
from eventyard.config import Settings
from eventyard.protocol.errors import AwsError
from eventyard.protocol.json_protocol import coral_validation_error
from eventyard.protocol.validation import Violation
from eventyard.runtime import fault_store, metric_store, shared_clock, timers, trace_path, tracing
from eventyard.runtime.access import Caller
from eventyard.runtime.clock import SystemClock
from eventyard.runtime.credentials import CredentialStore, configured_access_keys
from eventyard.runtime.faults import FaultInjector
from eventyard.runtime.leases import Leases
from eventyard.runtime.metrics import MetricsRecorder
from eventyard.runtime.ports import Ports
from eventyard.runtime.supervisor import Supervisor
from eventyard.runtime.timers import TimerService
from eventyard.services.base import RequestContext, Service
from eventyard.storage import Database, open_storage

log = logging.getLogger(__name__)

ServiceFactory = Callable[["Platform"], Service]


class Platform:
    def __init__(self, settings: Settings, service_factories: list[ServiceFactory]) -> None:
        self.settings = settings
        self.clock = SystemClock()
        self.db: Database = open_storage(settings.storage, settings.data_dir, settings.sqlite_synchronous)
        # This process as a node of the database's cluster (one node on SQLite): liveness and leases.
        self.node_id = uuid.uuid4().hex
        self.leases = Leases(self.db, self.node_id)
        self.timers = TimerService(self.db, self.clock, self.leases)
        self.shared_clock = shared_clock.SharedClock(self.db, self.clock)
        self.metrics = MetricsRecorder(self.db, self.clock, settings.metrics)
        # Fault injection rules (/_eventyard/faults): none until a client puts some.
        self.faults = FaultInjector(self.db, self.clock)
        self.supervisor = Supervisor()
        # Access keys -> secrets and accounts (used when authentication is on); IAM and STS add theirs.
        self.credentials = CredentialStore()
        self.credentials.register(configured_access_keys(settings.access_keys, settings.access_keys_file,
                                                         settings.account_id))
        # What services offer each other besides their operations (runtime/ports.py); filled as they are created.
        self.ports = Ports()
        self.services: dict[str, Service] = {}
        for factory in service_factories:
            service = factory(self)
            self.services[service.name] = service
        self._tasks: set[asyncio.Task[Any]] = set()
        self.started = False

    async def start(self) -> None:
        self.db.migrate(timers.MIGRATIONS)
        self.db.migrate(shared_clock.MIGRATIONS)
        self.db.migrate(metric_store.MIGRATIONS)
        self.db.migrate(tracing.MIGRATIONS)
        self.db.migrate(fault_store.MIGRATIONS)
        for service in self.services.values():
            applied = self.db.migrate(service.migrations)
            if applied:
                log.info("applied migrations %s", ", ".join(applied))
        self.db.start()
        await self.leases.register()
        self.leases.supervise(self.supervisor)
        await self.shared_clock.start()
        await self.faults.start(self.supervisor)
        for service in self.services.values():
            await service.provider.start()
        await self.timers.recover()
        self.timers.supervise(self.supervisor)
        self.metrics.supervise(self.supervisor)
        self.supervisor.every("trace:retention", tracing.SWEEP_INTERVAL,
                              self.leases.once("trace:retention", lambda: tracing.sweep(self.db, self.clock)))
        self.started = True

    async def stop(self) -> None:
        for service in self.services.values():
            await service.provider.stop()
        await self.supervisor.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.timers.stop()
        try:  # others may take this node's leases and claimed timers at once
            await self.leases.leave()
        except Exception:
            log.exception("could not leave the cluster cleanly; other nodes wait for this node's heartbeat to expire")
        try:  # the open period's counts too: a clean stop loses none
            await self.metrics.flush(everything=True)
        except Exception:
            log.exception("could not write the last metrics")
        try:
            await self.faults.flush()
        except Exception:
            log.exception("could not write the last fault counts")
        self.db.close()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run background work owned by the platform; it is cancelled at shutdown and logged on failure."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def call(self, service: str, operation: str, params: dict[str, Any], *, region: str,
                   account_id: str | None = None, headers: dict[str, str] | None = None,
                   caller: Caller | None = None) -> dict[str, Any]:
        """Call another service's operation in-process, as a client would (SNS -> SQS, targets, SDK
        integrations). `params` use Python types (bytes for blobs); AWS errors propagate as AwsError.
        `caller`: who acts (`service_caller`, `role_caller`), so a resource of another account is
        authorized by its resource policy as AWS does; None trusts the call."""
        target = self.services.get(service)
        if target is None:
            raise AwsError("UnknownServiceException", f"Service {service} is not available in Eventyard.")
        ctx = RequestContext(
            region=region,
            account_id=account_id or self.settings.account_id,
            base_url=self.settings.public_url,
            headers={k.lower(): v for k, v in (headers or {}).items()},
            operation=operation,
            caller=caller,
        )
        return await target.provider.dispatch(ctx, operation, params) or {}

    def input_error(self, service: str, violations: list[Violation]) -> AwsError | None:
        """The error `service` answers for input that breaks its model, worded as its wire protocol
        words it (SQS: MissingParameter), for in-process callers that validate as a client's request
        would be (Step Functions' task integrations); None if the service lets these pass."""
        protocols = self.services[service].protocols if service in self.services else ()
        handler = getattr(protocols[0], "on_violations", None) if protocols else None
        return handler(violations) if handler is not None else coral_validation_error(violations)

    def service_caller(self, principal: str, source_arn: str, source_account: str) -> Caller | None:
        """An AWS service delivering for `source_arn` (SNS for a topic, EventBridge for a rule), when
        authentication is on; without it every account trusts every other and nothing is checked."""
        return Caller.aws_service(principal, source_arn, source_account) if self.settings.auth_enabled else None

    def role_caller(self, role_arn: str, session: str) -> Caller | None:
        """A service acting through an execution role (Scheduler, Pipes, event source mappings): the
        role's session, when authentication is on."""
        return Caller.role_session(role_arn, session) if self.settings.auth_enabled else None

    async def trace(self, ident: str) -> dict[str, Any] | None:
        """The path of the traced flow `ident` names (`runtime/trace_path.py`): `eventyard trace`, the console."""
        async def describe(arn: str, region: str, account_id: str) -> dict[str, Any] | None:
            try:
                return await self.call("stepfunctions", "DescribeExecution", {"executionArn": arn}, region=region,
                                       account_id=account_id)
            except AwsError:
                return None
        return await trace_path.follow(self.db, ident, describe if "stepfunctions" in self.services else None)

    def health(self) -> dict[str, Any]:
        loops = self.supervisor.states()
        degraded = {name: state for name, state in loops.items() if state.startswith("degraded")}
        return {
            "version": __version__,
            "status": "degraded" if degraded else ("running" if self.started else "starting"),
            "storage": self.db.describe(),
            "services": {name: self._service_state(name, degraded) for name in self.services},
            "loops": loops,
        }

    def _service_state(self, service: str, degraded: dict[str, str]) -> str:
        """A service is degraded when one of its loops is, or the timer loop that drives its deliveries."""
        if not self.started:
            return "starting"
        for loop, state in degraded.items():
            if loop == "timers" or loop.startswith(f"{service}:"):
                return f"{state} (in {loop})"
        return "running"

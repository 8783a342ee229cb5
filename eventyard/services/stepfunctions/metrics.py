"""Step Functions' CloudWatch metrics (namespace AWS/States), recorded in memory per period.

Execution metrics, for standard and express workflows, by StateMachineArn and account-wide, and by
(StateMachineArn, Version) or (Alias, StateMachineArn) for executions started through a version or
an alias: ExecutionsStarted when an execution starts (and, as AWS documents, a second datapoint of 0
when it ends), then ExecutionsSucceeded, -Failed, -TimedOut or -Aborted and ExecutionTime
(milliseconds); ExecutionsRedriven and RedrivenExecutions* for redriven executions.

Task metrics, read from the execution's committed history events (`HistoryMetrics`): a Task state
calling a service integration counts ServiceIntegrationsScheduled/-Started/-Succeeded/-Failed/
-TimedOut and ServiceIntegrationScheduleTime/-RunTime/-Time by ServiceIntegrationResourceArn (the
task's resource, account-qualified as AWS publishes it: arn:aws:states:us-east-1:123456789012:
lambda:invoke); an activity the Activities*/Activity* metrics by ActivityArn (and
ActivitiesHeartbeatTimedOut); a Lambda function ARN named directly as Resource the LambdaFunctions*/
LambdaFunction* metrics by LambdaFunctionArn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventyard.runtime.metric_store import Dimensions
from eventyard.runtime.metrics import MetricsRecorder

NAMESPACE = "AWS/States"
ENDINGS = {"SUCCEEDED": "Succeeded", "FAILED": "Failed", "TIMED_OUT": "TimedOut", "ABORTED": "Aborted"}
MAX_OPEN_TASKS = 10_000  # tasks whose scheduling time is remembered until they close


def _execution_scopes(execution: dict[str, Any]) -> list[Dimensions]:
    machine = execution["machine_arn"]
    scopes: list[Dimensions] = [(("StateMachineArn", machine),), ()]
    if execution.get("alias_arn"):
        scopes.append((("Alias", execution["alias_arn"].rsplit(":", 1)[-1]), ("StateMachineArn", machine)))
    elif execution.get("version_arn"):
        scopes.append((("StateMachineArn", machine), ("Version", execution["version_arn"].rsplit(":", 1)[-1])))
    return scopes


def status_changed(recorder: MetricsRecorder, execution: dict[str, Any], timestamp: float | None = None) -> None:
    """An execution row as it was at its start (RUNNING) or its end."""
    if not recorder.enabled:
        return
    account, region = execution["account_id"], execution["region"]
    status = execution["status"]
    if status != "RUNNING" and status not in ENDINGS:
        return
    moment = recorder.clock.now() if timestamp is None else timestamp
    names: list[tuple[str, float]] = [("ExecutionsStarted", 1.0 if status == "RUNNING" else 0.0)]
    if status in ENDINGS:
        names.append((f"Executions{ENDINGS[status]}", 1.0))
        if execution.get("redrive_count"):
            names.append((f"RedrivenExecutions{ENDINGS[status]}", 1.0))
    for dims in _execution_scopes(execution):
        for name, value in names:
            recorder.count(NAMESPACE, name, dims, value, account_id=account, region=region, timestamp=moment)
        stopped = execution.get("stopped_at")
        if status in ENDINGS and stopped:
            recorder.observe(NAMESPACE, "ExecutionTime", dims, (stopped - execution["started_at"]) * 1000,
                             "Milliseconds", account_id=account, region=region, timestamp=moment)


def express_ran(recorder: MetricsRecorder, execution: dict[str, Any]) -> None:
    """An express execution, recorded once it ended: its start at its start time, then its end."""
    status_changed(recorder, dict(execution, status="RUNNING"), execution["started_at"])
    status_changed(recorder, execution)


@dataclass(frozen=True)
class Family:
    """A kind of task and the names of its metrics."""

    plural: str  # ServiceIntegrations: ...Scheduled, ...Started, ...Succeeded, ...Failed, ...TimedOut
    singular: str  # ServiceIntegration: ...ScheduleTime, ...RunTime, ...Time
    dimension: str


SERVICE = Family("ServiceIntegrations", "ServiceIntegration", "ServiceIntegrationResourceArn")
ACTIVITY = Family("Activities", "Activity", "ActivityArn")
LAMBDA = Family("LambdaFunctions", "LambdaFunction", "LambdaFunctionArn")
CLOSINGS = {"Succeeded": "Succeeded", "Failed": "Failed", "StartFailed": "Failed", "SubmitFailed": "Failed",
            "ScheduleFailed": "Failed", "TimedOut": "TimedOut"}
STAGES = {"Scheduled", "Started", "Submitted", *CLOSINGS}
TASK_PREFIXES = ("LambdaFunction", "Activity", "Task")


@dataclass
class OpenTask:
    family: Family
    resource: str
    scheduled: float | None  # None: not known (the task was scheduled before a restart)
    started: float | None = None


class HistoryMetrics:
    """Task and redrive metrics from an execution's history events as they are committed. A task's
    scheduling and start are remembered (in memory, bounded) until its closing event names them as
    its previous event, so the times can be measured across commits; a task that closes after a
    restart is still counted, without times (a direct Lambda task's closing event names no resource,
    so that one is not counted)."""

    def __init__(self, recorder: MetricsRecorder) -> None:
        self.recorder = recorder
        self._open: dict[tuple[str, int], OpenTask] = {}

    def record(self, execution_arn: str, events: Iterable[dict[str, Any]]) -> None:
        if not self.recorder.enabled:
            return
        parts = execution_arn.split(":")
        if len(parts) < 8:
            return
        for event in events:
            kind = event["type"]
            if kind == "ExecutionRedriven":
                machine = ":".join([*parts[:5], "stateMachine", parts[6]])
                self._count(parts, "ExecutionsRedriven", "StateMachineArn", machine, event["timestamp"])
                continue
            prefix = next((p for p in TASK_PREFIXES if kind.startswith(p)), None)
            if prefix is not None and kind[len(prefix):] in STAGES:
                self._task_event(parts, event, prefix, kind[len(prefix):])

    def _task_event(self, parts: list[str], event: dict[str, Any], prefix: str, stage: str) -> None:
        moment, arn = event["timestamp"], ":".join(parts)
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        if stage == "Scheduled":
            task = OpenTask(*_family(prefix, details, parts), moment)
            self._remember((arn, int(event["id"])), task)
            self._count(parts, f"{task.family.plural}Scheduled", task.family.dimension, task.resource, moment)
            return
        task_or_none = self._open.pop((arn, int(event.get("previousEventId", 0))), None)
        if task_or_none is None and "resourceType" in details:  # scheduled before a restart
            task_or_none = OpenTask(*_family(prefix, details, parts), None)
        if task_or_none is None:
            return
        task, family = task_or_none, task_or_none.family
        if stage in ("Started", "Submitted"):
            if stage == "Started":
                task.started = moment
                self._count(parts, f"{family.plural}Started", family.dimension, task.resource, moment)
            self._remember((arn, int(event["id"])), task)
            return
        ending = CLOSINGS[stage]
        if ending == "TimedOut" and family is ACTIVITY and details.get("error") == "States.HeartbeatTimeout":
            ending = "HeartbeatTimedOut"
        self._count(parts, f"{family.plural}{ending}", family.dimension, task.resource, moment)
        if task.scheduled is not None:
            self._times(parts, task, task.scheduled, moment)

    def _times(self, parts: list[str], task: OpenTask, scheduled: float, closed: float) -> None:
        family = task.family
        started = task.started if task.started is not None else scheduled
        for name, value in ((f"{family.singular}ScheduleTime", started - scheduled),
                            (f"{family.singular}RunTime", closed - started),
                            (f"{family.singular}Time", closed - scheduled)):
            self.recorder.observe(NAMESPACE, name, ((family.dimension, task.resource),), max(0.0, value) * 1000,
                                  "Milliseconds", account_id=parts[4], region=parts[3], timestamp=closed)

    def _remember(self, key: tuple[str, int], task: OpenTask) -> None:
        if len(self._open) >= MAX_OPEN_TASKS:
            self._open.pop(next(iter(self._open)))
        self._open[key] = task

    def _count(self, parts: list[str], name: str, dimension: str, value: str, moment: float) -> None:
        self.recorder.count(NAMESPACE, name, ((dimension, value),), account_id=parts[4], region=parts[3],
                            timestamp=moment)


def _family(prefix: str, details: dict[str, Any], arn: list[str]) -> tuple[Family, str]:
    """The family and dimension value of a task (`arn`: the execution ARN's parts)."""
    if prefix == "LambdaFunction":
        return LAMBDA, str(details.get("resource", ""))
    if prefix == "Activity" or details.get("resourceType") == "activity":
        return ACTIVITY, str(details.get("resource", ""))
    region = details.get("region") or arn[3]
    return SERVICE, f"{arn[0]}:{arn[1]}:states:{region}:{arn[4]}:{details.get('resourceType')}:{details.get('resource')}"

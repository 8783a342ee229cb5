"""Named, typed ports: what one service offers another besides its AWS API.

Services call each other's operations with `Platform.call`, as a client would. Where a service needs
more than an operation (Scheduler delivers through EventBridge's retrying target delivery; Lambda's
log agent writes into CloudWatch Logs inside its own transaction), the owner offers a port: a small
Protocol here, implemented by the owning service and provided on the Platform when the service is
created (`platform.ports.provide(LOG_AGENT, agent)`). The consumer asks for it by name
(`platform.ports.get(LOG_AGENT)`) and never imports the owner's modules, so every table and every
in-memory cache (rule index, OAuth tokens, rate limits) has one owner. tests/test_service_layering.py
keeps it so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from eventyard.storage import Connection

T = TypeVar("T")


class Port(Generic[T]):
    """The name of a port and, through its type parameter, the Protocol its implementation follows."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Port({self.name!r})"


class Ports:
    """The ports the platform's services provide, one implementation per port."""

    def __init__(self) -> None:
        self._provided: dict[Port[Any], Any] = {}

    def provide(self, port: Port[T], implementation: T) -> None:
        if port in self._provided:
            raise ValueError(f"{port.name} is already provided")
        self._provided[port] = implementation

    def find(self, port: Port[T]) -> T | None:
        """The implementation, or None when the service that owns the port is not assembled."""
        found: T | None = self._provided.get(port)
        return found

    def get(self, port: Port[T]) -> T:
        found = self.find(port)
        if found is None:
            raise LookupError(f"no service provides the port {port.name}")
        return found


# -- EventBridge (services/events) -------------------------------------------------------------
@dataclass
class DeliveryFailure(Exception):
    """A target delivery that failed: `code` is AWS's dead-letter ERROR_CODE vocabulary."""

    code: str
    message: str
    retryable: bool


# (account, region, bus name, event entry, X-Amzn-Trace-Id): send an event-bus target's event.
ToBus = Callable[[str, str, str, dict[str, Any], str | None], Awaitable[None]]


class TargetDelivery(Protocol):
    """EventBridge's target delivery: invoke a target, retry by its RetryPolicy with backoff, then send
    to its dead-letter queue. Scheduler delivers its firings through it, as AWS's Scheduler does."""

    def register(self, kind: str, to_bus: ToBus) -> None:
        """Deliver the durable timers of `kind`, whose payload holds `target`, `event`, `ingested`,
        `attempt`, `trace` and the `schedule_arn` (or `rule_arn`); `to_bus` sends an event-bus
        target's event and raises DeliveryFailure when the bus refuses it."""


class HttpAnswer(Protocol):
    """What an API destination's endpoint answered (status None: no answer, e.g. a timeout)."""

    @property
    def status(self) -> int | None: ...

    @property
    def reason(self) -> str: ...

    @property
    def body(self) -> bytes: ...

    @property
    def ok(self) -> bool: ...


class ApiDestinationCalls(Protocol):
    """One caller's calls to API destinations; an OAuth connection's token is reused within them."""

    async def invoke(self, account: str, region: str, name: str, http: dict[str, Any], body: str) -> HttpAnswer:
        """Call the destination `name` with its connection's authorization and `http` (resolved
        PathParameterValues, HeaderParameters, QueryStringParameters); an unknown destination or
        connection raises AwsError ResourceNotFoundException."""


class ApiDestinations(Protocol):
    """EventBridge's API destinations and connections, for Pipes' enrichments and targets."""

    def calls(self) -> ApiDestinationCalls: ...


class ServiceEvents(Protocol):
    """Events AWS services emit onto the default bus (`aws.states`, `aws.cloudwatch`): PutEvents refuses
    `aws.*` sources from clients, as AWS does, so services put them here."""

    async def put_service_event(self, account: str, region: str, source: str, detail_type: str,
                                detail: dict[str, Any], resources: list[str]) -> str:
        """Returns the event's id."""


class AcceptedEvent(Protocol):
    """An event PutEvents accepted: its bus as (account, region, name) and the event."""

    @property
    def bus(self) -> tuple[str, str, str]: ...

    @property
    def event(self) -> dict[str, Any]: ...


class PutEventsHook(Protocol):
    """What PutEvents asks before accepting an entry and tells after (the Schemas registry's
    validation and discovery)."""

    async def screen(self, account: str, region: str, entry: dict[str, Any]) -> tuple[str, str] | None:
        """None, or the entry's (ErrorCode, ErrorMessage)."""

    def observe(self, accepted: Iterable[AcceptedEvent]) -> None: ...


TARGET_DELIVERY: Port[TargetDelivery] = Port("events:target-delivery")
API_DESTINATIONS: Port[ApiDestinations] = Port("events:api-destinations")
SERVICE_EVENTS: Port[ServiceEvents] = Port("events:service-events")
PUT_EVENTS_HOOK: Port[PutEventsHook] = Port("schemas:put-events-hook")


# -- CloudWatch Logs (services/logs) -----------------------------------------------------------
@dataclass(frozen=True)
class AgentLogs:
    """One invocation's log lines, (timestamp ms, message), for one group and stream."""

    account_id: str
    region: str
    group: str
    stream: str
    lines: Sequence[tuple[int, str]]


class LogAgent(Protocol):
    """CloudWatch Logs as Lambda's log agent writes to it: groups and streams made on first use, no
    PutLogEvents limits, embedded-metric-format lines read, many invocations in one transaction."""

    def received(self, logs: AgentLogs) -> None:
        """Count the lines (IncomingLogEvents, IncomingBytes, EMF metrics) as they arrive."""

    def append(self, conn: Connection, batch: Sequence[AgentLogs], now: float) -> None:
        """Store the lines in the caller's transaction (metric and subscription filters see them)."""


LOG_AGENT: Port[LogAgent] = Port("logs:agent")


# -- SQS (services/sqs) ------------------------------------------------------------------------
class QueueSends(Protocol):
    """SQS's SendMessage inside another service's transaction: SNS writes its deliveries to queues
    with the publish that makes them."""

    def send(self, conn: Connection, queue_arn: str, params: dict[str, Any], trace_header: str | None,
             now: float) -> Callable[[], None]:
        """Send `params` (SendMessage's, Python types) as the queue's account; SendMessage's AwsError,
        raised before anything is written, when SQS refuses. Answers what to run after the COMMIT."""


QUEUE_SENDS: Port[QueueSends] = Port("sqs:queue-sends")


# -- IAM (services/iam) ------------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """An IAM user as a request's signer: its account, ARN and unique id."""

    account_id: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class RoleIdentity:
    """What STS needs of a role to issue a session for it."""

    account_id: str
    name: str
    arn: str
    role_id: str
    trust_policy: str
    max_session_duration: int | None


class Identities(Protocol):
    """IAM's users, access keys and roles as STS reads them, in STS's own transaction (STS and IAM
    are one identity system on AWS too, but each keeps its own tables)."""

    def key_owner(self, conn: Connection, access_key_id: str) -> Principal | None:
        """The user an IAM access key belongs to."""

    def key_account(self, conn: Connection, access_key_id: str) -> str | None:
        """The account of an IAM access key (its user may be gone)."""

    def role(self, conn: Connection, role_arn: str) -> RoleIdentity | None:
        """The role `role_arn` names, if it exists with exactly that ARN (path included)."""

    def trusts(self, role: RoleIdentity, principal_arn: str, account_id: str) -> bool:
        """Whether the role's trust policy lets the principal assume it."""

    def trusts_service(self, role: RoleIdentity, service_principal: str, region: str) -> bool:
        """Whether the role's trust policy lets an AWS service (`lambda.amazonaws.com`) assume it."""


IDENTITIES: Port[Identities] = Port("iam:identities")

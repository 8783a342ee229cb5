"""What EventBridge offers other services besides its operations (runtime/ports.py): its target
delivery (Scheduler), its API destinations (Pipes) and the intake for AWS services' own events
(Step Functions, CloudWatch). Provided on the Platform when the service is created."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventyard.runtime.ports import API_DESTINATIONS, SERVICE_EVENTS, TARGET_DELIVERY, ServiceEvents, ToBus
from eventyard.services.events import http_targets
from eventyard.services.events.delivery import Deliverer, destination_and_connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


class TargetDeliveries:
    """TargetDelivery: each registered kind gets a Deliverer of its own (its own rate limits and
    OAuth tokens), as Scheduler had when it built one."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def register(self, kind: str, to_bus: ToBus) -> None:
        Deliverer(self.platform, to_bus, kind=kind).register()


class DestinationCalls:
    """ApiDestinationCalls: one caller's calls (a pipe's batch), sharing OAuth tokens among them."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.oauth = http_targets.OAuthTokens()

    async def invoke(self, account: str, region: str, name: str, http: dict[str, Any],
                     body: str) -> http_targets.HttpOutcome:
        destination, connection = await self.platform.db.read(
            lambda conn: destination_and_connection(conn, account, region, name))
        return await http_targets.invoke(destination, connection, {"HttpParameters": http}, body, self.oauth,
                                         self.platform.clock.now())


class Destinations:
    """ApiDestinations."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def calls(self) -> DestinationCalls:
        return DestinationCalls(self.platform)


def provide(platform: Platform, service_events: ServiceEvents) -> None:
    platform.ports.provide(TARGET_DELIVERY, TargetDeliveries(platform))
    platform.ports.provide(API_DESTINATIONS, Destinations(platform))
    platform.ports.provide(SERVICE_EVENTS, service_events)

"""Log deliveries (a mixin of LogsProvider): delivery destinations (an S3 bucket, a log group or a
Firehose stream, with an optional policy), delivery sources and the deliveries joining them.

A delivery source is a resource of a service that vends its logs this way (CloudFront, Bedrock, ...).
None of the services Eventyard serves vends logs so, so PutDeliverySource answers what AWS answers for
a resource that cannot be a source ("Cannot access provided service.", recorded for an S3 bucket), and
no delivery can be created; the destinations are kept for clients that set them up.
"""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import partitions
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.logs import documents
from eventyard.storage import Connection

_DESTINATION_TYPES = {"s3": "S3", "logs": "CWL", "firehose": "FH", "xray": "XRAY"}


def _missing(what: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Requested {what} does not exist in this account.")


def _destination_type(arn: str) -> str:
    parts = arn.split(":")
    kind = _DESTINATION_TYPES.get(parts[2]) if len(parts) > 5 and parts[0] == "arn" else None
    if kind is None:
        raise AwsError("ValidationException", f"Invalid destination resource ARN: {arn}")
    return kind


class DeliveryOperations(Provider):
    # -- delivery destinations -----------------------------------------------------------------
    async def put_delivery_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        arn = (params.get("deliveryDestinationConfiguration") or {}).get("destinationResourceArn", "")
        kind = params.get("deliveryDestinationType") or _destination_type(arn)
        destination: dict[str, Any] = {
            "name": name, "arn": partitions.arn("logs", ctx.region, ctx.account_id, f"delivery-destination:{name}"),
            "deliveryDestinationType": kind, "deliveryDestinationConfiguration": {"destinationResourceArn": arn},
        }
        if params.get("outputFormat"):
            destination["outputFormat"] = params["outputFormat"]

        def run(conn: Connection) -> None:
            old = documents.get(conn, documents.DELIVERY_DESTINATION, ctx.account_id, ctx.region, name) or {}
            stored = {**destination, "tags": {**old.get("tags", {}), **(params.get("tags") or {})}}
            if "policy" in old:
                stored["policy"] = old["policy"]
            documents.put(conn, documents.DELIVERY_DESTINATION, ctx.account_id, ctx.region, name, stored)

        await self.platform.db.write(run)
        return {"deliveryDestination": destination}

    async def get_delivery_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.platform.db.read(lambda conn: self._delivery_destination(conn, ctx, params["name"]))
        return {"deliveryDestination": _public(found)}

    async def describe_delivery_destinations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.platform.db.read(lambda conn: documents.listing(
            conn, documents.DELIVERY_DESTINATION, ctx.account_id, ctx.region, params.get("nextToken"),
            params.get("limit") or 50))
        return paging.answer(found, "deliveryDestinations", _public, token_key="nextToken")

    async def delete_delivery_destination(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(conn: Connection) -> None:
            if not documents.delete(conn, documents.DELIVERY_DESTINATION, ctx.account_id, ctx.region, params["name"]):
                raise _missing("Delivery Destination")

        await self.platform.db.write(run)

    async def put_delivery_destination_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, policy = params["deliveryDestinationName"], params["deliveryDestinationPolicy"]

        def run(conn: Connection) -> None:
            destination = self._delivery_destination(conn, ctx, name)
            destination["policy"] = policy
            documents.put(conn, documents.DELIVERY_DESTINATION, ctx.account_id, ctx.region, name, destination)

        await self.platform.db.write(run)
        return {"policy": {"deliveryDestinationPolicy": policy}}

    async def get_delivery_destination_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.platform.db.read(
            lambda conn: self._delivery_destination(conn, ctx, params["deliveryDestinationName"]))
        return {"policy": {"deliveryDestinationPolicy": found["policy"]} if "policy" in found else {}}

    async def delete_delivery_destination_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name = params["deliveryDestinationName"]

        def run(conn: Connection) -> None:
            destination = self._delivery_destination(conn, ctx, name)
            destination.pop("policy", None)
            documents.put(conn, documents.DELIVERY_DESTINATION, ctx.account_id, ctx.region, name, destination)

        await self.platform.db.write(run)

    @staticmethod
    def _delivery_destination(conn: Connection, ctx: RequestContext, name: str) -> dict[str, Any]:
        found = documents.get(conn, documents.DELIVERY_DESTINATION, ctx.account_id, ctx.region, name)
        if found is None:
            raise _missing("Delivery Destination")
        return found

    # -- delivery sources and deliveries -------------------------------------------------------
    async def put_delivery_source(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        raise AwsError("ResourceNotFoundException", "Cannot access provided service.")

    async def get_delivery_source(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        raise _missing("Delivery Source")

    async def delete_delivery_source(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        raise _missing("Delivery Source")

    async def describe_delivery_sources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"deliverySources": []}

    async def create_delivery(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        raise _missing("Delivery Source")

    async def get_delivery(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        raise _missing("Delivery")

    async def delete_delivery(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        raise _missing("Delivery")

    async def describe_deliveries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"deliveries": []}


def _public(destination: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in destination.items() if key not in ("tags", "policy")}

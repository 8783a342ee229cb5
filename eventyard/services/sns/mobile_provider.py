"""SNS's mobile push and SMS operations, mixed into the SNS provider: platform applications and
endpoints, Publish to an endpoint or a phone number, SMS attributes, opt-outs, the SMS sandbox and
origination numbers. The domain lives in platform_apps.py, push.py and sms.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from eventyard.services import paging
from eventyard.services.base import RequestContext
from eventyard.services.sns import platform_apps as apps
from eventyard.services.sns import publish, push, sms
from eventyard.services.sns.errors import invalid_parameter, missing_attributes
from eventyard.storage import Connection

T = TypeVar("T")
PAGE = 100


def _page(items: list[Any], token: str | None, key: str, token_key: str = "NextToken",
          size: int = PAGE) -> dict[str, Any]:
    found = paging.in_memory(items, token, size, f"sns:{key}", lambda _: invalid_parameter(token_key, "Invalid NextToken"))
    return paging.answer(found, key, token_key=token_key)


class MobileOperations:
    platform: Any

    async def _mobile_write(self, fn: Callable[[Connection], T]) -> T:
        return await self.platform.db.write(fn)  # type: ignore[no-any-return]

    async def _mobile_read(self, fn: Callable[[Connection], T]) -> T:
        return await self.platform.db.read(fn)  # type: ignore[no-any-return]

    def _now(self) -> float:
        return float(self.platform.clock.now())

    # -- platform applications -------------------------------------------------------------
    async def create_platform_application(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        attributes = params.get("Attributes")
        arn = await self._mobile_write(lambda conn: apps.create_application(
            conn, ctx.account_id, ctx.region, params["Name"], params["Platform"],
            None if attributes is None else {k: str(v) for k, v in attributes.items()}, now))
        return {"PlatformApplicationArn": arn}

    async def get_platform_application_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        application = await self._mobile_read(lambda conn: apps.get_application(conn, params["PlatformApplicationArn"]))
        return {"Attributes": apps.application_view(application)}

    async def set_platform_application_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        given = {k: str(v) for k, v in (params.get("Attributes") or {}).items()}

        apps.check_application_arn(params["PlatformApplicationArn"])
        if params.get("Attributes") is None:  # before the application's existence (recorded against AWS)
            raise missing_attributes()

        def run(conn: Connection) -> None:
            apps.set_application_attributes(conn, apps.get_application(conn, params["PlatformApplicationArn"]), given)

        await self._mobile_write(run)

    async def list_platform_applications(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self._mobile_read(lambda conn: apps.list_applications(conn, ctx.account_id, ctx.region))
        items = [{"PlatformApplicationArn": a.arn, "Attributes": apps.application_view(a)} for a in found]
        return _page(items, params.get("NextToken"), "PlatformApplications")

    async def delete_platform_application(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._mobile_write(lambda conn: apps.delete_application(conn, params["PlatformApplicationArn"]))

    # -- endpoints -------------------------------------------------------------------------
    async def create_platform_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        given = {k: str(v) for k, v in (params.get("Attributes") or {}).items()}
        arn = await self._mobile_write(lambda conn: apps.create_endpoint(
            conn, apps.get_application(conn, params["PlatformApplicationArn"]), params["Token"],
            params.get("CustomUserData"), given, now))
        return {"EndpointArn": arn}

    async def get_endpoint_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        endpoint = await self._mobile_read(lambda conn: apps.get_endpoint(conn, params["EndpointArn"]))
        return {"Attributes": dict(endpoint.attributes)}

    async def set_endpoint_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        given = {k: str(v) for k, v in (params.get("Attributes") or {}).items()}

        def run(conn: Connection) -> None:
            endpoint = apps.get_endpoint(conn, params["EndpointArn"])
            if params.get("Attributes") is None:
                raise missing_attributes()
            apps.set_endpoint_attributes(conn, endpoint, given)

        await self._mobile_write(run)

    async def delete_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._mobile_write(lambda conn: apps.delete_endpoint(conn, params["EndpointArn"]))

    async def list_endpoints_by_platform_application(self, ctx: RequestContext,
                                                     params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> list[apps.Endpoint]:
            application = apps.get_application(conn, params["PlatformApplicationArn"])
            return apps.list_endpoints(conn, application.arn)

        found = await self._mobile_read(run)
        items = [{"EndpointArn": e.arn, "Attributes": dict(e.attributes)} for e in found]
        return _page(items, params.get("NextToken"), "Endpoints")

    # -- publishing ------------------------------------------------------------------------
    async def _publish_to_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["TargetArn"]
        now = self._now()
        found = await self._mobile_read(lambda conn: apps.find_endpoint(conn, arn))
        if found is None:  # not NotFound here (recorded against AWS)
            raise invalid_parameter("TargetArn", "No endpoint found for the target arn specified")
        plain = {k: v for k, v in params.items() if k != "MessageStructure"}
        outgoing = publish.prepare(None, plain, now, ctx.trace_header, "")
        if params.get("MessageStructure") is not None:
            if params["MessageStructure"] != "json":
                raise invalid_parameter("MessageStructure")
            outgoing.document["Messages"] = push.structured_messages(params["Message"], found.platform)

        def run(conn: Connection) -> None:
            endpoint = apps.get_endpoint(conn, arn)
            application = apps.get_application(conn, endpoint.application_arn)
            if application.attributes.get("Enabled", "true").lower() != "true":
                raise push.application_disabled()
            if not endpoint.enabled:
                raise push.endpoint_disabled()
            push.deliver(conn, application, endpoint, outgoing.document, now)

        await self._mobile_write(run)
        return {"MessageId": outgoing.document["MessageId"]}

    async def _publish_to_phone(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = sms.check_number(params["PhoneNumber"], reason=f"{params['PhoneNumber']} is not valid to publish to")
        rest, settings = sms.split_message_attributes(params.get("MessageAttributes") or {})
        now = self._now()
        outgoing = publish.prepare(None, {**params, "MessageAttributes": rest}, now, None, "")
        if len(params["Message"].encode()) > sms.MAX_SMS_BYTES:
            raise invalid_parameter("Message", "SMS messages must be no longer than 1600 bytes")
        document = outgoing.document
        await self._mobile_write(lambda conn: sms.send(conn, ctx.account_id, ctx.region, number, document, settings, now))
        return {"MessageId": document["MessageId"]}

    # -- SMS -------------------------------------------------------------------------------
    async def set_sms_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("attributes") is None:
            raise missing_attributes()
        given = {k: str(v) for k, v in params["attributes"].items()}
        await self._mobile_write(lambda conn: sms.set_attributes(conn, ctx.account_id, ctx.region, given))
        return {}

    async def get_sms_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self._mobile_read(lambda conn: sms.get_attributes(conn, ctx.account_id, ctx.region))
        wanted = params.get("attributes")
        return {"attributes": {k: v for k, v in found.items() if not wanted or k in wanted}}

    async def check_if_phone_number_is_opted_out(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = sms.check_number(params["phoneNumber"], "phoneNumber")
        opted = await self._mobile_read(lambda conn: sms.is_opted_out(conn, ctx.account_id, ctx.region, number))
        return {"isOptedOut": opted}

    async def list_phone_numbers_opted_out(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        numbers = await self._mobile_read(lambda conn: sms.opted_out_numbers(conn, ctx.account_id, ctx.region))
        return _page(numbers, params.get("nextToken"), "phoneNumbers", "nextToken")

    async def opt_in_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = sms.check_number(params["phoneNumber"])  # "PhoneNumber" in the message (recorded)
        now = self._now()
        await self._mobile_write(lambda conn: sms.opt_in(conn, ctx.account_id, ctx.region, number, now))
        return {}

    async def get_sms_sandbox_account_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"IsInSandbox": False}

    async def create_sms_sandbox_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = sms.check_number(params["PhoneNumber"])
        now = self._now()
        await self._mobile_write(lambda conn: sms.add_sandbox_number(
            conn, ctx.account_id, ctx.region, number, params.get("LanguageCode") or "en-US", now))
        return {}

    async def verify_sms_sandbox_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = sms.check_number(params["PhoneNumber"])
        await self._mobile_write(lambda conn: sms.verify_sandbox_number(
            conn, ctx.account_id, ctx.region, number, params["OneTimePassword"]))
        return {}

    async def delete_sms_sandbox_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = sms.check_number(params["PhoneNumber"])
        await self._mobile_write(lambda conn: sms.delete_sandbox_number(conn, ctx.account_id, ctx.region, number))
        return {}

    async def list_sms_sandbox_phone_numbers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        numbers = await self._mobile_read(lambda conn: sms.sandbox_numbers(conn, ctx.account_id, ctx.region))
        return _page(numbers, params.get("NextToken"), "PhoneNumbers", size=params.get("MaxResults") or PAGE)

    async def list_origination_numbers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """No carrier is connected, so an Eventyard account owns no origination numbers."""
        return {"PhoneNumbers": []}

    async def opt_out_phone_number(self, account: str, region: str, number: str) -> None:
        """Eventyard's stand-in for a recipient replying STOP (POST /_eventyard/sns/opt-outs)."""
        now = self._now()
        checked = sms.check_number(number, "phoneNumber")
        await self._mobile_write(lambda conn: sms.opt_out(conn, account, region, checked, now))

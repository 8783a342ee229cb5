"""Carrying out alarm actions from their durable timers: SNS Publish, Lambda Invoke (asynchronous) and
the state-change event on the default EventBridge bus. Each action's outcome is an alarm history
item, as on AWS ("Successfully executed action ...", "Failed to execute action ...").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import Caller
from eventyard.runtime.ports import SERVICE_EVENTS
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services.cloudwatch import history
from eventyard.services.cloudwatch.alarms import alarm_arn
from eventyard.services.cloudwatch.transitions import LAMBDA_ACTION, SNS_ACTION, STATE_EVENT

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

ACTION_RETRIES = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=60.0)


def _target(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    return parts[3], parts[4]  # region, account


class AlarmActions:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def register(self) -> None:
        timers = self.platform.timers
        timers.register(SNS_ACTION, self._publish, ACTION_RETRIES, self._failed)
        timers.register(LAMBDA_ACTION, self._invoke, ACTION_RETRIES, self._failed)
        timers.register(STATE_EVENT, self._put_event, ACTION_RETRIES)

    async def _publish(self, timer: Timer) -> None:
        payload = timer.payload
        region, account = _target(payload["action"])
        await self.platform.call("sns", "Publish", {"TopicArn": payload["action"], "Subject": payload["subject"],
                                                    "Message": payload["message"]}, region=region, account_id=account,
                                 caller=self._as_cloudwatch(payload))
        await self._record(payload, "Succeeded", {"publishedMessage": payload["message"]})

    async def _invoke(self, timer: Timer) -> None:
        payload = timer.payload
        region, account = _target(payload["action"])
        await self.platform.call("lambda", "Invoke", {
            "FunctionName": payload["action"], "InvocationType": "Event",
            "Payload": json.dumps(payload["payload"]).encode()}, region=region, account_id=account,
            caller=self._as_cloudwatch(payload))
        await self._record(payload, "Succeeded", {})

    def _as_cloudwatch(self, payload: dict[str, Any]) -> Caller | None:
        """Alarm actions run as cloudwatch.amazonaws.com for the alarm: a topic or function of another
        account must let it in by its resource policy, as on AWS."""
        source = alarm_arn(payload["region"], payload["account_id"], payload["alarm_name"])
        return self.platform.service_caller("cloudwatch.amazonaws.com", source, payload["account_id"])

    async def _put_event(self, timer: Timer) -> None:
        payload = timer.payload
        events = self.platform.ports.find(SERVICE_EVENTS)  # EventBridge's intake for AWS services' events
        if events is None:
            return
        await events.put_service_event(
            payload["account_id"], payload["region"], "aws.cloudwatch", "CloudWatch Alarm State Change",
            payload["detail"], payload["resources"])

    async def _failed(self, timer: Timer, error: BaseException) -> None:
        reason = f"{error.code}: {error.message}" if isinstance(error, AwsError) else str(error)
        await self._record(timer.payload, "Failed", {"error": reason})

    async def _record(self, payload: dict[str, Any], outcome: str, extra: dict[str, Any]) -> None:
        action = payload["action"]
        summary = (f"Successfully executed action {action}" if outcome == "Succeeded"
                   else f"Failed to execute action {action}. Received error: \"{extra.get('error', '')}\"")
        data = {"actionState": outcome, "stateUpdateTimestamp": int(payload["state_at"] * 1000),
                "notificationResource": action, **extra}
        now = self.platform.clock.now()
        await self.platform.db.write(lambda conn: history.add_item(
            conn, payload["account_id"], payload["region"], payload["alarm_name"], payload["alarm_type"], now,
            "Action", summary, data))

"""SNS pages: topics, their subscriptions with filter policies and states, deliveries still being
tried (failures retry), and the email/SMS/push messages the server captured instead of sending."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from eventyard.console.links import arn_region
from eventyard.console.pages.metrics import datapoints
from eventyard.console.paging import paginate
from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest, console_url, redirect
from eventyard.protocol.base import HttpRequest, HttpResponse
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
CAPTURED_PROTOCOLS = ("email", "email-json", "sms", "application", "firehose")


@routes.get("sns")
async def topics(console: Console, request: ConsoleRequest) -> HttpResponse:
    found = await console.collect(request, "sns", "ListTopics", "Topics")
    page = paginate(sorted(t["TopicArn"] for t in found), request, lambda arn: arn.rsplit(":", 1)[-1])
    answers = await asyncio.gather(*(console.call(request, "sns", "GetTopicAttributes", {"TopicArn": arn})
                                     for arn in page.rows))
    rows = [{"arn": arn, "attributes": answer["Attributes"]} for arn, answer in zip(page.rows, answers, strict=True)]
    return console.render(request, "sns_topics.html", title="SNS topics", page=page, rows=rows)


@routes.get("sns/topic")
async def topic(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    region = arn_region(arn, request.region)
    attributes = (await console.call(request, "sns", "GetTopicAttributes", {"TopicArn": arn}, region))["Attributes"]
    subscriptions = await console.collect(request, "sns", "ListSubscriptionsByTopic", "Subscriptions",
                                          {"TopicArn": arn}, region=region)
    page = paginate(subscriptions, request, lambda s: s["Endpoint"] + " " + s["Protocol"])
    rows = []
    for subscription in page.rows:
        details: dict[str, Any] = {}
        if subscription["SubscriptionArn"].startswith("arn:"):  # "PendingConfirmation" has no attributes yet
            details = (await console.call(request, "sns", "GetSubscriptionAttributes",
                                          {"SubscriptionArn": subscription["SubscriptionArn"]}, region))["Attributes"]
        rows.append({"subscription": subscription, "attributes": details})
    provider = console.provider("sns")
    backlog = await provider.delivery_backlog(arn) if provider is not None else []
    captured = await _captured(console, {"topic_arn": arn})
    return console.render(request, "sns_topic.html", title=arn.rsplit(":", 1)[-1], arn=arn, attributes=attributes,
                          page=page, rows=rows, backlog=backlog, captured=captured[-50:][::-1], now=console.now(),
                          deliveries=await _delivery_counts(console, request, region, arn.rsplit(":", 1)[-1]))


async def _delivery_counts(console: Console, request: ConsoleRequest, region: str,
                           topic: str) -> dict[str, float] | None:
    """Notifications delivered and failed in the last three hours (AWS/SNS metrics); None without CloudWatch."""
    counts: dict[str, float] = {}
    for metric in ("NumberOfMessagesPublished", "NumberOfNotificationsDelivered", "NumberOfNotificationsFailed"):
        points = await datapoints(console, request, region, "AWS/SNS", metric, {"TopicName": topic}, "Sum")
        if points is None:
            return None
        counts[metric] = sum(value for _, value in points)
    return counts


@routes.get("sns/captured")
async def captured_messages(console: Console, request: ConsoleRequest) -> HttpResponse:
    filters = {"protocol": request.arg("protocol")} if request.arg("protocol") in CAPTURED_PROTOCOLS else {}
    records = await _captured(console, filters)
    page = paginate(records[::-1], request, lambda r: json.dumps(r, default=str))
    return console.render(request, "sns_captured.html", title="Captured messages", page=page,
                          protocols=CAPTURED_PROTOCOLS, chosen=filters.get("protocol", ""))


async def _captured(console: Console, filters: dict[str, str]) -> list[dict[str, Any]]:
    """What SNS captured instead of sending, through SNS's own endpoint (/_eventyard/sns/deliveries)."""
    provider = console.provider("sns")
    if provider is None:
        return []
    answer = await provider.admin(HttpRequest("GET", "/_eventyard/sns/deliveries", urlencode(filters), {}, b""))
    return list(json.loads(answer.body).get("deliveries", [])) if answer.status == 200 else []


@routes.post("sns/publish")
async def publish(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    params: dict[str, Any] = {"TopicArn": arn, "Message": request.form.get("message", "")}
    if request.form.get("subject"):
        params["Subject"] = request.form["subject"]
    if request.form.get("group_id"):
        params["MessageGroupId"] = request.form["group_id"]
    try:
        published = await console.call(request, "sns", "Publish", params, arn_region(arn, request.region))
    except AwsError as error:
        return redirect(console_url("sns/topic", arn=arn, error=f"{error.code}: {error.message}"))
    return redirect(console_url("sns/topic", arn=arn, notice=f"Published message {published['MessageId']}."))

"""SNS operations: each maps its request onto the domain modules inside one storage call."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

from eventyard.protocol.base import HttpRequest, HttpResponse
from eventyard.protocol.values import iso8601
from eventyard.runtime import timers, tracing
from eventyard.runtime.ids import new_uuid
from eventyard.runtime.partitions import root_principal
from eventyard.runtime.ports import QUEUE_SENDS
from eventyard.runtime.timers import RetryPolicy
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.sns import access, batch, outbox, publish, signing
from eventyard.services.sns import metrics as sns_metrics
from eventyard.services.sns import subscriptions as subscription_store
from eventyard.services.sns import topics as topic_store
from eventyard.services.sns.delivery import Dispatcher
from eventyard.services.sns.direct import DirectSqs
from eventyard.services.sns.errors import invalid_parameter
from eventyard.services.sns.filters import FilterIndex
from eventyard.services.sns.mobile_provider import MobileOperations
from eventyard.services.sns.names import TopicKey, parse_topic_arn
from eventyard.services.sns.signing import Signer
from eventyard.storage import Connection

T = TypeVar("T")
DEDUP_SWEEP_INTERVAL = 60.0
# Unexpected delivery errors (our bugs, not endpoint failures) are retried a few times, then
# dead-lettered; endpoint failures follow the delivery policy (see delivery.py).
INTERNAL_RETRIES = RetryPolicy(max_attempts=5, base_delay=1.0, multiplier=2.0, max_delay=60.0)
# A publish's topic and the subscriptions its claimed deliveries go to, read in its transaction.
Fanned = tuple[topic_store.Topic, dict[str, subscription_store.Subscription | None]]


class SnsProvider(MobileOperations, Provider):
    # The error a query service answers for an action it does not offer.
    unsupported_error_code = "InvalidAction"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.filters = FilterIndex()
        self.signer: Signer | None = None
        self.dispatcher: Dispatcher | None = None

    def now(self) -> float:
        return float(self.platform.clock.now())

    async def start(self) -> None:
        proposal = await asyncio.to_thread(signing.candidate_key, self.platform.settings.data_dir)
        key_pem, cert_pem = await self.platform.db.write(lambda conn: signing.agree(conn, *proposal))
        self.signer = Signer(key_pem, cert_pem)
        self.dispatcher = Dispatcher(self.platform, self.signer)
        self.platform.timers.register(outbox.TIMER_KIND, self.dispatcher.handle, INTERNAL_RETRIES,
                                      on_exhausted=self.dispatcher.on_exhausted)
        self.platform.supervisor.every("sns:dedup-sweep", DEDUP_SWEEP_INTERVAL,
                                        self.platform.leases.once("sns:dedup-sweep", self._sweep_dedup))

    async def _sweep_dedup(self) -> None:
        now = self.now()
        await self.platform.db.write(lambda conn: conn.execute("DELETE FROM sns_dedup WHERE expires_at < ?", (now,)))

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        await access.authorize(self.platform, ctx, operation, params)

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        return await self.platform.db.write(fn)

    # -- topics ----------------------------------------------------------------------------
    async def create_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = TopicKey(ctx.account_id, ctx.region, params["Name"])
        attributes = {k: str(v) for k, v in (params.get("Attributes") or {}).items()}
        tags = topic_store.check_tag_list(params.get("Tags") or [])
        if attributes.get("DataProtectionPolicy") is None and params.get("DataProtectionPolicy"):
            attributes["DataProtectionPolicy"] = params["DataProtectionPolicy"]
        now = self.now()
        arn = await self._write(lambda conn: topic_store.create(conn, key, attributes, tags, now))
        return {"TopicArn": arn}

    async def delete_topic(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        arn = params["TopicArn"]

        def run(conn: Connection) -> None:
            topic_store.delete(conn, arn, ctx.region)
            self.filters.invalidate(conn, arn)

        await self._write(run)

    async def get_topic_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> dict[str, str]:
            return topic_store.attributes_view(conn, topic_store.get(conn, params["TopicArn"], ctx.region))

        view = await self.platform.db.read(run)
        view.pop("DataProtectionPolicy", None)
        return {"Attributes": view}

    async def set_topic_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        await self._write(lambda conn: topic_store.set_attribute(
            conn, topic_store.get(conn, params["TopicArn"], ctx.region), name, value))

    async def list_topics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.platform.db.read(
            lambda conn: topic_store.list_page(conn, ctx.account_id, ctx.region, params.get("NextToken")))
        return paging.answer(found, "Topics", lambda arn: {"TopicArn": arn})

    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        tags = topic_store.check_tag_list(params["Tags"])
        await self._write(lambda conn: topic_store.tag(conn, params["ResourceArn"], tags))

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._write(lambda conn: topic_store.untag(conn, params["ResourceArn"], params["TagKeys"]))

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = await self.platform.db.read(lambda conn: topic_store.list_tags(conn, params["ResourceArn"]))
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    async def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._write(lambda conn: topic_store.add_permission(
            conn, topic_store.get(conn, params["TopicArn"], ctx.region), params["Label"],
            params["AWSAccountId"], params["ActionName"]))

    async def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._write(lambda conn: topic_store.remove_permission(
            conn, topic_store.get(conn, params["TopicArn"], ctx.region), params["Label"]))

    async def get_data_protection_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = await self.platform.db.read(lambda conn: topic_store.get(conn, params["ResourceArn"], ctx.region))
        policy = topic.attributes.get("DataProtectionPolicy")
        return {"DataProtectionPolicy": policy} if policy else {}

    async def put_data_protection_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._write(lambda conn: topic_store.set_attribute(
            conn, topic_store.get(conn, params["ResourceArn"], ctx.region), "DataProtectionPolicy",
            params["DataProtectionPolicy"]))

    # -- subscriptions ---------------------------------------------------------------------
    async def subscribe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        attributes = {k: str(v) for k, v in (params.get("Attributes") or {}).items()}
        now = self.now()
        public_url = self.platform.settings.public_url
        principal = await self._principal(ctx)

        def run(conn: Connection) -> subscription_store.Subscription:
            topic = topic_store.get(conn, params["TopicArn"], ctx.region)
            subscription, created = subscription_store.subscribe(
                conn, topic, params["Protocol"], params.get("Endpoint"), attributes, ctx.account_id, now, principal)
            if created:
                self.filters.invalidate(conn, topic.arn)
                if not subscription.confirmed:
                    outbox.enqueue(conn, _confirmation(topic.arn, subscription.token or "", public_url, now),
                                   [subscription.arn], None, now)
            return subscription

        subscription = await self._write(run)
        self.platform.timers.wake()
        if subscription.confirmed or params.get("ReturnSubscriptionArn"):
            return {"SubscriptionArn": subscription.arn}
        return {"SubscriptionArn": subscription_store.PENDING}

    async def _principal(self, ctx: RequestContext) -> str:
        """Who signed the request (an IAM user's or a session's ARN), else the account's root."""
        credential = await self.platform.credentials.lookup(ctx.access_key) if ctx.access_key else None
        return credential.principal if credential is not None else root_principal(ctx.region, ctx.account_id)

    async def confirm_subscription(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        key = parse_topic_arn(params["TopicArn"])
        subscription_store.check_token_format(params["Token"])

        def run(conn: Connection) -> str:
            topic = topic_store.find(conn, key.arn)
            if topic is None:  # AWS does not say the topic is missing, only that no such token was issued
                raise invalid_parameter("Token")
            subscription = subscription_store.confirm(conn, topic, params["Token"], now)
            self.filters.invalidate(conn, topic.arn)
            return subscription.arn

        return {"SubscriptionArn": await self._write(run)}

    async def unsubscribe(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(conn: Connection) -> None:
            removed = subscription_store.unsubscribe(conn, params["SubscriptionArn"])
            if removed is not None:
                self.filters.invalidate(conn, removed.topic_arn)

        await self._write(run)

    async def get_subscription_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> dict[str, str]:
            subscription = subscription_store.get(conn, params["SubscriptionArn"])
            return subscription_store.attributes_view(subscription, topic_store.find(conn, subscription.topic_arn))

        return {"Attributes": await self.platform.db.read(run)}

    async def set_subscription_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(conn: Connection) -> None:
            subscription = subscription_store.get(conn, params["SubscriptionArn"])
            subscription_store.set_attribute(conn, subscription, params["AttributeName"],
                                             str(params.get("AttributeValue") or ""))
            self.filters.invalidate(conn, subscription.topic_arn)

        await self._write(run)

    async def list_subscriptions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.platform.db.read(lambda conn: subscription_store.list_page(
            conn, "account_id = ? AND region = ?", (ctx.account_id, ctx.region), params.get("NextToken"),
            f"sns:subscriptions:{ctx.account_id}:{ctx.region}"))
        return paging.answer(found, "Subscriptions", subscription_store.listed)

    async def list_subscriptions_by_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> paging.Page[subscription_store.Subscription]:
            topic = topic_store.get(conn, params["TopicArn"], ctx.region)
            return subscription_store.list_page(conn, "topic_arn = ?", (topic.arn,), params.get("NextToken"),
                                                f"sns:subscriptions:{topic.arn}")

        return paging.answer(await self.platform.db.read(run), "Subscriptions", subscription_store.listed)

    # -- publishing ------------------------------------------------------------------------
    async def publish(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        targets = [name for name in ("TopicArn", "TargetArn", "PhoneNumber") if params.get(name) is not None]
        if not targets:
            raise invalid_parameter("TopicArn or TargetArn", "no value for required parameter")
        if len(targets) > 1:
            raise invalid_parameter("TopicArn or TargetArn or PhoneNumber",
                                    "Only one of these parameters may be specified")
        now = self.now()
        if targets[0] == "PhoneNumber":
            return await self._publish_to_phone(ctx, params)
        arn = params[targets[0]]
        if targets[0] == "TargetArn" and ":endpoint/" in arn:
            return await self._publish_to_endpoint(ctx, params)
        key = _topic_in_region(arn, targets[0], ctx.region)
        # A traced publish is a hop; deliveries get the header as it came (SNS's default PassThrough tracing).
        incoming = tracing.parse(ctx.trace_header)
        trace = ctx.trace_header
        claimed: list[outbox.Claimed] = []
        filtered: Counter[str] = Counter()  # filter policies that turned the message away, by reason
        direct = self._direct()

        def run(conn: Connection) -> tuple[tuple[str, str | None, int], Fanned]:
            del claimed[:]
            filtered.clear()
            if direct is not None:
                direct.reset()
            topic = topic_store.get(conn, key.arn, ctx.region)
            outgoing = publish.prepare(topic, params, now, trace, topic.arn)
            if incoming is not None and not topic.fifo:  # before the SQS hops of direct deliveries (same time)
                _hop(conn, incoming, now, topic, ctx, outgoing.document["MessageId"])
            answer = publish.fan_out(conn, self.filters, topic, outgoing, now, claimed, filtered, direct)
            if incoming is not None and topic.fifo:  # a duplicate answers (and is traced as) the first message
                _hop(conn, incoming, now, topic, ctx, answer[0])
            return answer, self._fanned(conn, topic, claimed)

        (message_id, sequence, _), fanned = await self._write(run)
        if direct is not None:
            direct.committed()
        self._deliver_now(claimed, fanned)
        sns_metrics.published(self.platform.metrics, key, (len(params["Message"].encode()),), filtered)
        return {"MessageId": message_id, **({"SequenceNumber": sequence} if sequence else {})}

    def _fanned(self, conn: Connection, topic: topic_store.Topic, claimed: list[outbox.Claimed]) -> Fanned:
        """Inside the publish transaction: the topic and claimed subscriptions, as the filter route read them.
        With shared storage the claimed deliveries' timers name this node, so a survivor takes them over."""
        if claimed and self.platform.db.shared:
            timers.own(conn, [c.timer.id for c in claimed], self.platform.node_id)
        return topic, {c.subscription_arn: self.filters.subscription(topic.arn, c.subscription_arn) for c in claimed}

    def _direct(self) -> DirectSqs | None:
        """A request's deliveries to SQS made inside its publish transaction (direct.py), when SQS runs here."""
        sends = self.platform.ports.find(QUEUE_SENDS)
        if self.dispatcher is None or sends is None:
            return None
        return DirectSqs(self.dispatcher, sends, self.filters)

    def _deliver_now(self, claimed: list[outbox.Claimed], fanned: Fanned) -> None:
        """After COMMIT: start the claimed deliveries at once rather than on the timer loop's next claim."""
        if claimed and self.dispatcher is not None:
            self.dispatcher.fire_after_commit(claimed, fanned[1], fanned[0])

    async def publish_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("PublishBatchRequestEntries") or []
        batch.validate_entries(entries)
        key = _topic_in_region(params["TopicArn"], "TopicArn", ctx.region)
        now = self.now()
        trace = ctx.trace_header

        claimed: list[outbox.Claimed] = []
        filtered: Counter[str] = Counter()
        direct = self._direct()

        def run(conn: Connection) -> tuple[dict[str, Any], Fanned]:
            del claimed[:]
            filtered.clear()
            if direct is not None:
                direct.reset()
            topic = topic_store.get(conn, key.arn, ctx.region)
            result, _ = batch.publish_entries(conn, self.filters, topic, entries, now, trace, claimed, filtered,
                                              direct)
            return result, self._fanned(conn, topic, claimed)

        result, fanned = await self._write(run)
        if direct is not None:
            direct.committed()
        self._deliver_now(claimed, fanned)
        done = {entry["Id"] for entry in result.get("Successful", [])}
        sns_metrics.published(self.platform.metrics, key, (len(e["Message"].encode()) for e in entries if e["Id"] in done),
                              filtered)
        return result

    # -- Eventyard's own endpoints (/_eventyard/sns/...) ------------------------------------
    async def delivery_backlog(self, topic_arn: str, limit: int = 50) -> list[dict[str, Any]]:
        """For the console: the topic's undelivered deliveries with their attempt counts."""
        return await self.platform.db.read(lambda conn: outbox.backlog(conn, topic_arn, limit))

    async def admin(self, request: HttpRequest) -> HttpResponse:
        name = request.path.removeprefix("/_eventyard/sns/")
        if name == "deliveries":
            if request.method == "DELETE":
                await self._write(lambda conn: conn.execute("DELETE FROM sns_captured"))
                return _json(200, {"deliveries": []})
            filters = dict(parse_qsl(request.query_string))
            records = await self.platform.db.read(lambda conn: outbox.captured(conn, filters))
            return _json(200, {"deliveries": records})
        if name == "opt-outs" and request.method == "POST":  # a recipient replying STOP (docs/sns.md)
            body = json.loads(request.body or b"{}")
            await self.opt_out_phone_number(body.get("account") or self.platform.settings.account_id,
                                            body.get("region") or "us-east-1", str(body.get("phoneNumber", "")))
            return _json(200, {"optedOut": body.get("phoneNumber")})
        if self.signer is not None and name == self.signer.certificate_name:
            return HttpResponse(200, self.signer.certificate_pem, {"content-type": "application/x-pem-file"})
        return _json(404, {"error": f"no such endpoint {request.path}"})


def _hop(conn: Connection, incoming: tracing.TraceHeader, now: float, topic: topic_store.Topic, ctx: RequestContext,
         message_id: str) -> None:
    tracing.record(conn, tracing.Hop(incoming, tracing.new_segment(), now, "sns", "Publish", topic.arn,
                                     ctx.account_id, ctx.region, ref=message_id))


def _topic_in_region(arn: str, parameter: str, region: str) -> TopicKey:
    """Publishing names a topic of the caller's region; another region's ARN is an invalid parameter."""
    key = parse_topic_arn(arn, parameter)
    if key.region != region:
        raise invalid_parameter(parameter)
    return key


def _confirmation(topic_arn: str, token: str, public_url: str, now: float) -> dict[str, Any]:
    return {
        "Type": "SubscriptionConfirmation", "MessageId": new_uuid(), "Token": token, "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.\n"
                   "To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": f"{public_url}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe='')}"
                        f"&Token={token}",
        "Timestamp": iso8601(now), "MessageAttributes": {},
    }


def _json(status: int, document: Any) -> HttpResponse:
    return HttpResponse(status, json.dumps(document).encode(), {"content-type": "application/json"})

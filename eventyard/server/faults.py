"""`/_eventyard/faults` and the API faults the request path applies to every service.

`PUT` replaces the active rules with a `{"seed": N, "rules": [...]}` document, `GET` shows them with
how often each matched and fired, `DELETE` clears them. A `throttle` rule answers the service's own
throttling error, as AWS sends it; an `error` rule answers the error it names. Both are raised after
the request is parsed and before the provider runs, so they reach clients exactly like AWS's.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from botocore.model import OperationModel

from eventyard.protocol.base import HttpRequest, HttpResponse
from eventyard.protocol.errors import AwsError
from eventyard.runtime.fault_rules import API_FAULTS, FaultRule, FaultRuleError, parse_document
from eventyard.runtime.faults import FaultInjector, resource_names, short_name

PATH = "/_eventyard/faults"
RATE_EXCEEDED = "Rate exceeded"
INJECTED_MESSAGE = "This error was injected by an Eventyard fault rule."
# service -> (code, HTTP status, message) of its throttling error, as AWS answers it:
# SQS's query-era RequestThrottled comes with 403 (recorded); SNS's modeled Throttled with 429;
# CloudWatch, IAM and STS keep the query protocol's Throttling; the JSON services say ThrottlingException.
THROTTLING: dict[str, tuple[str, int, str]] = {
    "sqs": ("RequestThrottled", 403, "Request is throttled."),
    "sns": ("Throttled", 429, RATE_EXCEEDED),
    "events": ("ThrottlingException", 400, RATE_EXCEEDED),
    "scheduler": ("ThrottlingException", 429, RATE_EXCEEDED),
    "pipes": ("ThrottlingException", 429, RATE_EXCEEDED),
    "schemas": ("TooManyRequestsException", 429, RATE_EXCEEDED),
    "stepfunctions": ("ThrottlingException", 400, RATE_EXCEEDED),
    "logs": ("ThrottlingException", 400, RATE_EXCEEDED),
    "cloudwatch": ("Throttling", 400, RATE_EXCEEDED),
    "iam": ("Throttling", 400, RATE_EXCEEDED),
    "sts": ("Throttling", 400, RATE_EXCEEDED),
}
# Kinesis throttles record operations per shard and the others per stream, each with its modeled error.
KINESIS_THROTTLING = ("ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException")
# Request parameters that name the resource an operation acts on, in the order they are looked for.
RESOURCE_PARAMETERS = (
    "QueueUrl", "QueueName", "TopicArn", "SubscriptionArn", "TargetArn", "EventBusName", "Rule", "StreamARN",
    "StreamName", "ConsumerARN", "FunctionName", "stateMachineArn", "executionArn", "activityArn", "mapRunArn",
    "logGroupName", "logGroupIdentifier", "AlarmName", "ScheduleName", "Name", "ResourceArn", "ResourceARN",
    "resourceArn", "SourceArn", "RoleName", "RoleArn",
)


class InjectedError(AwsError):
    """An error a rule made the operation answer; `fields` are extra members (Lambda's Reason, Type)."""

    def __init__(self, code: str, message: str, status: int, fields: dict[str, str] | None = None) -> None:
        super().__init__(code, message, status, sender_fault=status < 500)
        self.fields = fields or {}


def api_fault(injector: FaultInjector, service: str, operation: OperationModel, params: dict[str, Any],
              region: str, account_id: str) -> AwsError | None:
    """The error a `throttle` or `error` rule makes this API call answer, or None."""
    if not injector.rules or not any(rule.service == service and rule.fault in API_FAULTS for rule in injector.rules):
        return None  # the common case stays cheap: no names are worked out
    resources = request_resources(params, region, account_id)
    fired = injector.fire(service, API_FAULTS, resources, operation.name)
    if fired is None:
        return None
    rule = fired.rule
    if rule.fault == "error":
        return InjectedError(rule.params["code"], rule.params.get("message") or INJECTED_MESSAGE, int(rule.params["status"]))
    return throttling_error(service, operation, rule, resources, account_id)


def throttling_error(service: str, operation: OperationModel, rule: FaultRule, resources: tuple[str, ...],
                     account_id: str) -> AwsError:
    given = rule.params.get("message")
    if service == "lambda":
        reason = rule.params.get("reason") or (
            "ConcurrentInvocationLimitExceeded" if operation.name.startswith("Invoke") else "CallerRateLimitExceeded")
        return InjectedError("TooManyRequestsException", given or "Rate Exceeded.", 429,
                             {"Reason": reason, "Type": "User"})
    if service == "kinesis":
        modeled = {shape.name for shape in operation.error_shapes}
        code = next((c for c in KINESIS_THROTTLING if c in modeled), "LimitExceededException")
        stream = short_name(resources[0]) if resources else ""
        return InjectedError(code, given or f"Rate exceeded for stream {stream} under account "
                                            f"{_account_of(resources, account_id)}.", 400)
    code, status, message = THROTTLING.get(service, ("ThrottlingException", 400, RATE_EXCEEDED))
    return InjectedError(code, given or message, status)


def request_resources(params: dict[str, Any], region: str, account_id: str) -> tuple[str, ...]:
    """The ARNs and names of what a request acts on, from every resource-naming parameter it has."""
    given = [params[key] for key in RESOURCE_PARAMETERS if isinstance(params.get(key), str) and params[key]]
    entries = params.get("Entries")
    if isinstance(entries, list):  # PutEvents: the buses the entries go to
        given += [e.get("EventBusName") or "default" for e in entries if isinstance(e, dict) and "Source" in e]
    names = resource_names(*given)
    queue_arns = [_queue_arn(name, region, account_id) for name in names if name.startswith(("http://", "https://"))]
    return (*names, *queue_arns)


def _queue_arn(url: str, region: str, account_id: str) -> str:
    """A queue URL's ARN (`.../<account>/<name>` or `.../queue/<region>/<account>/<name>`), so a rule
    may name the queue by ARN."""
    parts = url.rstrip("/").split("/")
    account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else account_id
    if len(parts) >= 4 and parts[-4] == "queue":
        region = parts[-3]
    return f"arn:aws:sqs:{region}:{account}:{parts[-1]}"


def _account_of(resources: tuple[str, ...], account_id: str) -> str:
    return next((r.split(":")[4] for r in resources if r.startswith("arn:")), account_id)


async def handle(injector: FaultInjector, request: HttpRequest, services: Collection[str]) -> HttpResponse:
    if request.method == "GET":
        return _json(200, await injector.describe())
    if request.method == "DELETE":
        await injector.clear()
        return _json(200, await injector.describe())
    if request.method != "PUT":
        return _json(405, {"error": "use GET, PUT or DELETE"}, {"allow": "GET, PUT, DELETE"})
    try:
        document = json.loads(request.body or b"null")
    except ValueError as exc:
        return _json(400, {"error": f"the body is not JSON: {exc}"})
    try:
        seed, rules = parse_document(document, services)
    except FaultRuleError as exc:
        return _json(400, {"error": str(exc)})
    await injector.replace(seed, rules)
    return _json(200, await injector.describe())


def _json(status: int, document: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, json.dumps(document).encode(), {"content-type": "application/json", **(headers or {})})

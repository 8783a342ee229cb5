"""Rules and their targets. A rule routes by event pattern or fires on a schedule; targets live in
the rule's document, so a rule and its targets change in one write."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from eventyard.patterns import InvalidPattern, compile_event_pattern
from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.services import schedule_expressions, transform
from eventyard.services.events import buses, store
from eventyard.services.events.arns import DEFAULT_BUS, bus_name, rule_arn, rule_key
from eventyard.storage import Connection

KIND = "rule"
SCHEDULE_TIMER = "events.rule-schedule"
MAX_TARGETS = 5
PATTERN_MAX = 4096


def not_found(name: str, bus: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.")


def get(conn: Connection, account: str, region: str, bus: str, name: str) -> dict[str, Any]:
    rule = store.get(conn, KIND, account, region, rule_key(bus, name))
    if rule is None:
        raise not_found(name, bus)
    return rule


def validate_pattern(text: str) -> None:
    if len(text) > PATTERN_MAX:
        raise AwsError("ValidationException", "Event pattern is not valid. Reason: Event pattern is too long.")
    try:
        compile_event_pattern(text)
    except InvalidPattern as error:
        raise AwsError("InvalidEventPatternException", error.full_message) from None


def put(conn: Connection, account: str, region: str, params: dict[str, Any], now: float) -> dict[str, Any]:
    name = params["Name"]
    bus = bus_name(params.get("EventBusName"))
    buses.get(conn, account, region, bus, now)
    pattern, schedule = params.get("EventPattern"), params.get("ScheduleExpression")
    if not pattern and not schedule:
        raise AwsError("ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    if schedule:
        if bus != DEFAULT_BUS:
            raise AwsError("ValidationException", "ScheduleExpression is supported only on the default event bus.")
        try:
            schedule_expressions.parse(schedule)
        except schedule_expressions.InvalidExpression:
            raise AwsError("ValidationException", "Parameter ScheduleExpression is not valid.") from None
    if pattern:
        validate_pattern(pattern)
    key = rule_key(bus, name)
    rule = store.get(conn, KIND, account, region, key)
    if rule is not None and rule.get("ManagedBy"):
        raise AwsError("ManagedRuleException",
                       f"Rule {name} is managed by {rule['ManagedBy']} and cannot be modified.")
    targets = rule.get("Targets", []) if rule else []
    rule = {"Name": name, "Arn": rule_arn(account, region, bus, name), "EventBusName": bus,
            "State": params.get("State") or "ENABLED", "CreatedBy": account, "Targets": targets}
    for field in ("EventPattern", "ScheduleExpression", "Description", "RoleArn"):
        if params.get(field):
            rule[field] = params[field]
    if schedule:
        # A fresh token retires the timer chain of the rule's previous schedule.
        rule["_token"] = uuid.uuid4().hex
        expression = schedule_expressions.parse(schedule)
        due = schedule_expressions.next_firing(expression, now, now)
        if due is not None:
            timers.schedule(conn, SCHEDULE_TIMER, {"account": account, "region": region, "rule": name,
                                                   "token": rule["_token"], "anchor": now}, due, now)
    store.put(conn, KIND, account, region, key, rule)
    if params.get("Tags"):
        store.set_tags(conn, rule["Arn"], params["Tags"])
    return rule


def set_state(conn: Connection, account: str, region: str, params: dict[str, Any], state: str) -> dict[str, Any]:
    bus = bus_name(params.get("EventBusName"))
    rule = get(conn, account, region, bus, params["Name"])
    if rule.get("ManagedBy"):
        raise AwsError("ManagedRuleException", f"Rule {rule['Name']} is managed and cannot be modified.")
    rule["State"] = state
    store.put(conn, KIND, account, region, rule_key(bus, rule["Name"]), rule)
    return rule


def delete(conn: Connection, account: str, region: str, params: dict[str, Any]) -> dict[str, Any] | None:
    bus = bus_name(params.get("EventBusName"))
    rule = store.get(conn, KIND, account, region, rule_key(bus, params["Name"]))
    if rule is None:
        return None  # AWS: deleting a missing rule succeeds
    if rule.get("Targets"):
        raise AwsError("ValidationException", "Rule can't be deleted since it has targets.")
    store.delete(conn, KIND, account, region, rule_key(bus, rule["Name"]))
    store.remove_tags(conn, rule["Arn"])
    return rule


def list_rules(conn: Connection, account: str, region: str, bus: str, prefix: str = "") -> list[dict[str, Any]]:
    return store.list_docs(conn, KIND, account, region, rule_key(bus, prefix))


_TARGET_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$")


def validate_target(target: dict[str, Any]) -> None:
    given = [k for k in ("Input", "InputPath", "InputTransformer") if k in target]
    if len(given) > 1:
        raise AwsError("ValidationException", "Only one of Input, InputPath, or InputTransformer must be provided "
                       f"for target {target['Id']}.")
    if "Input" in target:
        try:
            json.loads(target["Input"])
        except ValueError:
            raise AwsError("ValidationException", f"Target {target['Id']} has invalid Input.") from None
    transformer = target.get("InputTransformer")
    if transformer:
        paths = transformer.get("InputPathsMap") or {}
        if len(paths) > 100:
            raise AwsError("ValidationException", "InputPathsMap has more than 100 entries.")
        for key, path in paths.items():
            if key.startswith("aws.events."):
                raise AwsError("ValidationException",
                               f"Input transformer variable {key} is reserved and cannot be used.")
            if not str(path).startswith("$"):
                raise AwsError("ValidationException",
                               f"Target {target['Id']}: InputPath for key {key} is an invalid JSONPath.")
        for name in transform.template_placeholders(transformer.get("InputTemplate") or ""):
            if name not in paths and name not in transform.PREDEFINED:
                raise AwsError("ValidationException",
                               f"InputTemplate for target {target['Id']} contains invalid placeholder {name}.")
    arn = target["Arn"]
    if not _TARGET_ARN.match(arn):
        raise AwsError("ValidationException",
                       f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format.")
    if ":sqs:" in arn and arn.endswith(".fifo") and not (target.get("SqsParameters") or {}).get("MessageGroupId"):
        raise AwsError("ValidationException", f"Parameter(s) SqsParameters must be specified for target: {target['Id']}.")
    retry = target.get("RetryPolicy") or {}
    if "MaximumEventAgeInSeconds" in retry and not 60 <= retry["MaximumEventAgeInSeconds"] <= 86400:
        raise AwsError("ValidationException", "MaximumEventAgeInSeconds must be between 60 and 86400.")


def put_targets(conn: Connection, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    bus = bus_name(params.get("EventBusName"))
    rule = get(conn, account, region, bus, params["Rule"])
    if rule.get("ManagedBy"):
        raise AwsError("ManagedRuleException", f"Rule {rule['Name']} is managed and cannot be modified.")
    targets = {t["Id"]: t for t in rule.get("Targets", [])}
    for target in params["Targets"]:
        validate_target(target)
    incoming = {t["Id"]: t for t in params["Targets"]}
    if len({**targets, **incoming}) > MAX_TARGETS:
        raise AwsError("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
    targets.update(incoming)
    rule["Targets"] = list(targets.values())
    store.put(conn, KIND, account, region, rule_key(bus, rule["Name"]), rule)
    return {"FailedEntryCount": 0, "FailedEntries": []}


def remove_targets(conn: Connection, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    bus = bus_name(params.get("EventBusName"))
    rule = get(conn, account, region, bus, params["Rule"])
    if rule.get("ManagedBy") and not params.get("Force"):
        raise AwsError("ManagedRuleException", f"Rule {rule['Name']} is managed and cannot be modified.")
    ids = set(params["Ids"])
    rule["Targets"] = [t for t in rule.get("Targets", []) if t["Id"] not in ids]
    store.put(conn, KIND, account, region, rule_key(bus, rule["Name"]), rule)
    return {"FailedEntryCount": 0, "FailedEntries": []}


def targets_arn(rule: dict[str, Any], target_arn: str) -> bool:
    return any(t["Arn"] == target_arn for t in rule.get("Targets", []))


def describe(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if k not in ("Targets",) and not k.startswith("_")}


def next_firings(conn: Connection, account: str, region: str) -> dict[str, float]:
    """When each scheduled rule of the default bus fires next: its pending timer (for the console;
    the API has no such read). A rule rescheduled since keeps only its current chain's timer."""
    rows = conn.execute("SELECT due_at, payload FROM timers WHERE kind = ?", (SCHEDULE_TIMER,)).fetchall()
    tokens = {doc["Name"]: doc.get("_token") for doc in list_rules(conn, account, region, DEFAULT_BUS)}
    found: dict[str, float] = {}
    for row in rows:
        payload = json.loads(row["payload"])
        name = payload.get("rule")
        if payload.get("account") == account and payload.get("region") == region and tokens.get(name) == payload.get("token"):
            found[name] = min(float(row["due_at"]), found.get(name, float("inf")))
    return found

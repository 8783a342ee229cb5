"""Fault rules: what a `PUT /_eventyard/faults` document may say, checked before anything is stored.

A rule names a service, a resource (an ARN, a name, or `*`), optionally an API operation, a fault and
a probability, plus the fault's own parameters (`ms` for `delay`, `code`/`status` for `error`). Each
fault applies where AWS itself shows that behaviour (see docs/testing-idempotency.md):

- `throttle`, `error`: any API operation of any service (applied in the server's request path);
- `duplicate`: SQS standard receives, SNS subscription deliveries, EventBridge target deliveries,
  Lambda event source mapping batches, Kinesis PutRecord(s) entries;
- `reorder`: SQS standard receives;
- `delay`: SNS subscription deliveries, EventBridge (and Scheduler) target deliveries, Lambda
  asynchronous invocations and event source mapping batches;
- `fail`: SNS subscription deliveries, EventBridge (and Scheduler) target deliveries, Lambda invocations.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

API_FAULTS = frozenset({"throttle", "error"})
# The services where each delivery fault has a hook.
DELIVERY_FAULTS: dict[str, frozenset[str]] = {
    "duplicate": frozenset({"sqs", "sns", "events", "lambda", "kinesis"}),
    "reorder": frozenset({"sqs"}),
    "delay": frozenset({"sns", "events", "scheduler", "lambda"}),
    "fail": frozenset({"sns", "events", "scheduler", "lambda"}),
}
FAULTS = API_FAULTS | frozenset(DELIVERY_FAULTS)
# Delivery faults that happen inside an API operation may be narrowed to it; the others are deliveries
# (no operation of the client's carries them), so an operation there would never match.
DELIVERY_OPERATIONS: dict[tuple[str, str], frozenset[str]] = {
    ("sqs", "duplicate"): frozenset({"ReceiveMessage"}),
    ("sqs", "reorder"): frozenset({"ReceiveMessage"}),
    ("kinesis", "duplicate"): frozenset({"PutRecord", "PutRecords"}),
}
COMMON_KEYS = frozenset({"service", "resource", "operation", "fault", "probability"})
PARAMETER_KEYS: dict[str, frozenset[str]] = {
    "delay": frozenset({"ms"}),
    "error": frozenset({"code", "status", "message"}),
    "throttle": frozenset({"message", "reason"}),
}
MAX_DELAY_MS = 15 * 60 * 1000  # as long as SQS's longest delay; longer holds look like lost work
SEED_RANGE = (-(2 ** 63), 2 ** 63 - 1)  # a BIGINT
MAX_RULES = 100


class FaultRuleError(ValueError):
    """A rules document that cannot be used; the message says which rule and why."""


@dataclass(frozen=True)
class FaultRule:
    service: str
    fault: str
    resource: str = "*"
    operation: str | None = None
    probability: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The rule as a client wrote it (defaults filled in)."""
        out: dict[str, Any] = {"service": self.service, "resource": self.resource}
        if self.operation is not None:
            out["operation"] = self.operation
        out.update(fault=self.fault, probability=self.probability, **self.params)
        return out

    @property
    def delay_seconds(self) -> float:
        return float(self.params.get("ms", 0)) / 1000.0


def parse_document(document: Any, services: Collection[str]) -> tuple[int, list[FaultRule]]:
    """The seed and rules of a `{"seed": N, "rules": [...]}` document, or FaultRuleError."""
    if not isinstance(document, dict):
        raise FaultRuleError('the body must be a JSON object: {"seed": 42, "rules": [...]}')
    unknown = set(document) - {"seed", "rules"}
    if unknown:
        raise FaultRuleError(f"unknown field {sorted(unknown)[0]!r}; a document has 'seed' and 'rules'")
    seed = document.get("seed", 0)
    if not _is_int(seed) or not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise FaultRuleError("'seed' must be an integer that fits in 64 bits")
    rules = document.get("rules", [])
    if not isinstance(rules, list):
        raise FaultRuleError("'rules' must be a list of rules")
    if len(rules) > MAX_RULES:
        raise FaultRuleError(f"at most {MAX_RULES} rules are allowed")
    return int(seed), [parse_rule(rule, n, services) for n, rule in enumerate(rules)]


def parse_rule(rule: Any, position: int, services: Collection[str]) -> FaultRule:
    where = f"rules[{position}]"
    if not isinstance(rule, dict):
        raise FaultRuleError(f"{where} must be an object")
    service, fault = rule.get("service"), rule.get("fault")
    if not isinstance(service, str) or service not in services:
        raise FaultRuleError(f"{where}.service must be one of {', '.join(sorted(services))}")
    if not isinstance(fault, str) or fault not in FAULTS:
        raise FaultRuleError(f"{where}.fault must be one of {', '.join(sorted(FAULTS))}")
    if fault in DELIVERY_FAULTS and service not in DELIVERY_FAULTS[fault]:
        raise FaultRuleError(f"{where}: {fault!r} applies to {', '.join(sorted(DELIVERY_FAULTS[fault]))}, "
                             f"not {service!r}")
    unknown = set(rule) - COMMON_KEYS - PARAMETER_KEYS.get(fault, frozenset())
    if unknown:
        raise FaultRuleError(f"{where}: unknown field {sorted(unknown)[0]!r} for fault {fault!r}")
    resource = rule.get("resource", "*")
    if not isinstance(resource, str) or not resource:
        raise FaultRuleError(f"{where}.resource must be an ARN, a name or '*'")
    operation = _operation(rule.get("operation"), service, fault, where)
    probability = rule.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, int | float) or not 0.0 <= probability <= 1.0:
        raise FaultRuleError(f"{where}.probability must be a number from 0.0 to 1.0")
    return FaultRule(service, fault, resource, operation, float(probability), _parameters(rule, fault, where))


def _operation(operation: Any, service: str, fault: str, where: str) -> str | None:
    if operation is None:
        return None
    if not isinstance(operation, str) or not operation:
        raise FaultRuleError(f"{where}.operation must be an API operation's name, e.g. SendMessage")
    if fault in API_FAULTS:
        return operation
    allowed = DELIVERY_OPERATIONS.get((service, fault))
    if allowed is None:
        raise FaultRuleError(f"{where}: {fault!r} on {service} is a delivery, not an API operation; "
                             "leave 'operation' out")
    if operation not in allowed:
        raise FaultRuleError(f"{where}.operation for {fault!r} on {service} must be one of {', '.join(sorted(allowed))}")
    return operation


def _parameters(rule: dict[str, Any], fault: str, where: str) -> dict[str, Any]:
    params = {key: rule[key] for key in PARAMETER_KEYS.get(fault, ()) if key in rule}
    if fault == "delay":
        ms = params.get("ms")
        if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= MAX_DELAY_MS:
            raise FaultRuleError(f"{where}.ms (milliseconds to hold a delivery back) must be from 0 to {MAX_DELAY_MS}")
    if fault == "error":
        if not isinstance(params.get("code"), str) or not params["code"]:
            raise FaultRuleError(f"{where}.code must name the AWS error to answer, e.g. ServiceUnavailable")
        status = params.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise FaultRuleError(f"{where}.status must be an HTTP error status from 400 to 599")
    for key in ("message", "reason"):
        if key in params and not isinstance(params[key], str):
            raise FaultRuleError(f"{where}.{key} must be a string")
    return params


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

"""EventBridge and Scheduler target deliveries under fault rules (/_eventyard/faults).

A delivery is named by its rule (or schedule) and its target, so a rule may pick either, by ARN or
name. An injected failure is a 5xx from the target, which the target's RetryPolicy retries and its
dead-letter queue finally receives, as a target that keeps failing on AWS would.
"""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.fault_rules import FaultRule
from eventyard.runtime.faults import resource_names


def delivery_resources(payload: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The service whose rules apply (events, or scheduler for a schedule's delivery) and the names."""
    target = payload["target"]
    source = payload.get("schedule_arn") or payload.get("rule_arn")
    return ("scheduler" if "schedule_arn" in payload else "events"), resource_names(source, target["Arn"])


def injected_failure(rule: FaultRule) -> AwsError:
    return AwsError("InternalFailure", "The target failed this delivery (an Eventyard fault rule).", 500,
                    sender_fault=False)

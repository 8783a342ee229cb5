"""Console pages link to each other by ARN: which page shows the resource an ARN names."""

from __future__ import annotations

from eventyard.console.web import console_url

# ARN service -> console page for that resource type (first element of the resource part).
_PAGES: dict[tuple[str, str], str] = {
    ("sqs", ""): "sqs/queue",
    ("sns", ""): "sns/topic",
    ("events", "rule"): "events/rule",
    ("events", "event-bus"): "events/bus",
    ("events", "archive"): "events/archive",
    ("events", "replay"): "events/archives",
    ("scheduler", "schedule"): "events/schedules",
    ("lambda", "function"): "lambda/function",
    ("states", "stateMachine"): "sfn/machine",
    ("states", "execution"): "sfn/execution",
    ("states", "express"): "sfn/execution",
    ("kinesis", "stream"): "kinesis/stream",
    ("cloudwatch", "alarm"): "cloudwatch/alarm",
}


def arn_parts(arn: str) -> tuple[str, str, str, str] | None:
    """(service, region, account, resource) of an ARN, or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[2], parts[3], parts[4], parts[5]


def arn_region(arn: str, default: str) -> str:
    parts = arn_parts(arn)
    return parts[1] if parts and parts[1] else default


def resource_name(arn: str) -> str:
    """The human part of an ARN: a queue's or function's name, a rule's name, an execution's name."""
    parts = arn_parts(arn)
    if parts is None:
        return arn
    service, _, _, resource = parts
    if service == "sns" and resource.count(":") == 1:
        return resource.split(":")[0]  # a subscription: its topic's name
    if service == "lambda":
        return resource.split(":")[1] if ":" in resource else resource
    for separator in ("/", ":"):
        if separator in resource:
            return resource.rsplit(separator, 1)[1] if service in {"states", "events", "scheduler", "cloudwatch"} \
                else resource.split(separator)[1]
    return resource


def page_for_arn(arn: str) -> str | None:
    """The console URL of the page that shows this ARN's resource, if the console has one."""
    parts = arn_parts(arn)
    if parts is None:
        return None
    service, _, _, resource = parts
    kind = ""
    for separator in ("/", ":"):
        if separator in resource:
            kind = resource.split(separator)[0]
            break
    page = _PAGES.get((service, kind)) or _PAGES.get((service, ""))
    if service == "sns" and resource.count(":") == 1:  # subscription -> its topic
        return console_url("sns/topic", arn=arn.rsplit(":", 1)[0])
    if service == "lambda" and resource.count(":") == 2:  # a qualified function ARN -> the function
        return console_url("lambda/function", arn=arn.rsplit(":", 1)[0])
    return console_url(page, arn=arn) if page else None

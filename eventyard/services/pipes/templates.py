"""Pipes' input templates: `<$.path>` JSON paths into the event and the reserved `<aws.pipes.*>`
variables, rendered by EventBridge's own template renderer (the quoting rules are the same).

A template applies to each event of a batch on its own. Paths reach into an SQS `body` or a Kinesis
`data` that holds JSON as if it were parsed (AWS's "implicit body data parsing").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from eventyard.services.sources.records import parsed_view
from eventyard.services.transform import MISSING, iso_time, json_path, render_template


@dataclass(frozen=True)
class PipeNames:
    """What the reserved variables name."""

    pipe_arn: str
    pipe_name: str
    source_arn: str
    enrichment_arn: str
    target_arn: str


def view(event: Any) -> Any:
    """The event as paths see it: a source record's JSON body or data parsed in place."""
    if isinstance(event, dict) and event.get("eventSource") == "aws:sqs":
        return parsed_view(event, "body")
    if isinstance(event, dict) and event.get("eventSource") == "aws:kinesis":
        return parsed_view(event, "data")
    return event


class _Values(Mapping[str, Any]):
    def __init__(self, event: Any, names: PipeNames, ingested_at: float) -> None:
        self.event = view(event)
        self.reserved: dict[str, Any] = {
            "aws.pipes.pipe-arn": names.pipe_arn, "aws.pipes.pipe-name": names.pipe_name,
            "aws.pipes.source-arn": names.source_arn, "aws.pipes.enrichment-arn": names.enrichment_arn,
            "aws.pipes.target-arn": names.target_arn, "aws.pipes.event.ingestion-time": iso_time(ingested_at),
            "aws.pipes.event": event, "aws.pipes.event.json": self.event,
        }

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name.startswith("$") or name in self.reserved)

    def __getitem__(self, name: str) -> Any:
        if name.startswith("$"):
            return json_path(self.event, name)
        return self.reserved[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.reserved)

    def __len__(self) -> int:
        return len(self.reserved)


def render(template: str, event: Any, names: PipeNames, ingested_at: float) -> str:
    return render_template(template, _Values(event, names, ingested_at))


def transformed(template: str | None, event: Any, names: PipeNames, ingested_at: float) -> Any:
    """The event a template makes: parsed JSON when the rendering is JSON, else the text itself."""
    if template is None:
        return event
    text = render(template, event, names, ingested_at)
    try:
        return json.loads(text)
    except ValueError:
        return text


def dynamic(value: Any, event: Any) -> Any:
    """A pipe parameter that is a JSON path (`$.detail.id`) takes its value from each event."""
    if isinstance(value, str) and value.startswith("$."):
        found = json_path(view(event), value)
        return None if found is MISSING else found
    return value


def as_text(event: Any) -> str:
    """What a message body or record holds: text as it is, anything else as JSON."""
    return event if isinstance(event, str) else json.dumps(event)

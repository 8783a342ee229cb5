"""What a target receives: the event, a constant `Input`, the `InputPath` selection, or the
`InputTransformer` rendering of `InputTemplate` with values picked by `InputPathsMap`.

Quoting follows AWS's documented behaviour: in a JSON template a placeholder outside quotes becomes
the value as JSON (strings quoted); inside quotes it becomes the bare text (missing: empty). In a text
template values are inserted as bare text. EventBridge's recorded answers refine this (`EVENTBRIDGE`):
a missing path outside quotes is `""` (the documentation says null; the recording wins), objects and
lists in a text template are their JSON without quotes (`[HIGH]`, `{acc_id:0a78,sf_id:baz}`), and a
JSON template whose rendering is not JSON (an object placed inside quotes) reaches no target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]")
# A variable's name, or (Pipes' templates) a JSON path such as `<$.body.items[0]>`.
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-$*/\[\]']+)>")
MISSING = object()


def json_path(document: Any, path: str) -> Any:
    """EventBridge's JSONPath subset: dot names, array indices, `*` wildcards. MISSING if absent."""
    path = path.strip()
    if not path.startswith("$"):
        return MISSING
    values: list[Any] = [document]
    wildcard = False
    position = 1
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            return MISSING
        position = match.end()
        name = match.group(1) if match.group(1) is not None else match.group(3)
        index = match.group(2)
        found: list[Any] = []
        for value in values:
            if name == "*" or index == "*":
                wildcard = True
                found.extend(value.values() if isinstance(value, dict) else value if isinstance(value, list) else [])
            elif name is not None:
                if isinstance(value, dict) and name in value:
                    found.append(value[name])
            elif isinstance(value, list) and int(index) < len(value):
                found.append(value[int(index)])
        values = found
    if wildcard:
        return values
    return values[0] if values else MISSING


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_seconds(text: str) -> float:
    """The epoch seconds of an event's `time` (`iso_time`'s format)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Style:
    missing: str = "null"  # what a missing path becomes outside quotes in a JSON template
    bare_structures: bool = False  # objects and lists in text without their quotes


EVENTBRIDGE = Style(missing='""', bare_structures=True)
PREDEFINED = ("aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time", "aws.events.event",
              "aws.events.event.json")


def template_placeholders(template: str) -> list[str]:
    return [match.group(1) for match in _PLACEHOLDER.finditer(template)]


def render_input(target: dict[str, Any], event: dict[str, Any], rule_name: str, rule_arn: str,
                 ingested_at: float) -> str | None:
    """The body a target receives, or None when a JSON template rendered to something that is not JSON
    (AWS then silently skips the target)."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        value = json_path(event, target["InputPath"])
        return "null" if value is MISSING else json.dumps(value)
    transformer = target.get("InputTransformer")
    if not transformer:
        return json.dumps(event)
    values: dict[str, Any] = {
        name: json_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    values["aws.events.rule-arn"] = rule_arn
    values["aws.events.rule-name"] = rule_name
    values["aws.events.event.ingestion-time"] = iso_time(ingested_at)
    # The event without its detail, and with `detailType` for `detail-type` (recorded against AWS).
    metadata = {("detailType" if k == "detail-type" else k): v for k, v in event.items() if k != "detail"}
    values["aws.events.event"] = _Raw(json.dumps(metadata))
    values["aws.events.event.json"] = _Raw(json.dumps(event))
    template = transformer["InputTemplate"]
    rendered = render_template(template, values, EVENTBRIDGE)
    if _is_json_template(template):
        try:
            json.loads(rendered)
        except ValueError:
            return None
    return rendered


class _Raw(str):
    """JSON text inserted unescaped wherever it appears (AWS: 'the content is not escaped')."""


def _is_json_template(template: str) -> bool:
    return template.lstrip()[:1] in ("{", "[")


def render_template(template: str, values: Mapping[str, Any], style: Style = Style()) -> str:
    json_mode = _is_json_template(template)
    out: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == "<":
            match = _PLACEHOLDER.match(template, position)
            if match is not None and match.group(1) in values:
                out.append(_insert(values[match.group(1)], json_mode and not in_string, json_mode, style))
                position = match.end()
                continue
        if json_mode:
            if char == "\\" and in_string:
                out.append(template[position:position + 2])
                position += 2
                continue
            if char == '"':
                in_string = not in_string
        out.append(char)
        position += 1
    return "".join(out)


def _insert(value: Any, as_json: bool, json_template: bool, style: Style) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if as_json:
        return style.missing if value is MISSING else json.dumps(value)
    if value is MISSING or value is None:
        return "" if value is MISSING else "null"
    if isinstance(value, str):
        return json.dumps(value)[1:-1]  # keep the surrounding JSON string valid
    if style.bare_structures and not json_template:
        return _bare(value)
    return json.dumps(value)


def _bare(value: Any) -> str:
    """JSON without its quotes, as EventBridge writes objects and lists into text."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{_bare(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_bare(item) for item in value) + "]"
    return value if isinstance(value, str) else json.dumps(value)

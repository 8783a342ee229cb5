"""What a target receives: the event, a constant `Input`, the `InputPath` selection, or the
`InputTransformer` rendering of `InputTemplate` with values picked by `InputPathsMap`.

Quoting follows AWS's documented behaviour: in a JSON template a placeholder outside quotes becomes
the value as JSON (strings quoted, a missing path `null`); inside quotes it becomes the bare text
(missing: empty). In a text template values are inserted as bare text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
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


def render_input(target: dict[str, Any], event: dict[str, Any], rule_name: str, rule_arn: str,
                 ingested_at: float) -> str:
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
    values["aws.events.event"] = _Raw(json.dumps({k: v for k, v in event.items() if k != "detail"}))
    values["aws.events.event.json"] = _Raw(json.dumps(event))
    return render_template(transformer["InputTemplate"], values)


class _Raw(str):
    """JSON text inserted unescaped wherever it appears (AWS: 'the content is not escaped')."""


def render_template(template: str, values: Mapping[str, Any]) -> str:
    json_mode = template.lstrip()[:1] in ("{", "[")
    out: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == "<":
            match = _PLACEHOLDER.match(template, position)
            if match is not None and match.group(1) in values:
                out.append(_insert(values[match.group(1)], json_mode and not in_string))
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


def _insert(value: Any, as_json: bool) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if as_json:
        return "null" if value is MISSING else json.dumps(value)
    if value is MISSING or value is None:
        return "" if value is MISSING else "null"
    if isinstance(value, str):
        return json.dumps(value)[1:-1]  # keep the surrounding JSON string valid
    return json.dumps(value)

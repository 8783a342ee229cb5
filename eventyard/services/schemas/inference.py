"""Schemas inferred from events, in the OpenAPI 3 form EventBridge's discovery writes.

An event's schema is an `AWSEvent` component (the envelope, marked with `x-amazon-events-source` and
`x-amazon-events-detail-type`) whose `detail` refers to a component named after the detail type;
nested objects become components of their own, named after their property. Discovery merges what
each new event shows into the latest version: a property seen for the first time, or a value of
another type, changes the schema (and so makes a new version); a property missing from an event
stops being required.
"""

from __future__ import annotations

import json
import re
from typing import Any

DISCOVERED_REGISTRY = "discovered-schemas"
ENVELOPE_FIELDS = {
    "account": {"type": "string"}, "detail-type": {"type": "string"}, "id": {"type": "string"},
    "region": {"type": "string"}, "resources": {"type": "array", "items": {"type": "string"}},
    "source": {"type": "string"}, "time": {"type": "string", "format": "date-time"},
    "version": {"type": "string"},
}


def component_name(text: str) -> str:
    """A component's name: the words of `text` capitalised and joined (`order placed` -> OrderPlaced)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Detail"
    return name if name[0].isalpha() else f"Type{name}"


def schema_name(source: str, detail_type: str) -> str:
    """The name discovery gives an event's schema: `<source>@<DetailType>`."""
    return f"{re.sub(r'[^A-Za-z0-9._-]', '', source)}@{component_name(detail_type)}"


def _infer(value: Any, name: str, components: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, (int, float)):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        if not value:
            return {"type": "array", "items": {"type": "object"}}
        merged = _infer(value[0], name, components)
        for item in value[1:]:
            merged = merge_property(merged, _infer(item, name, components), components)
        return {"type": "array", "items": merged}
    if isinstance(value, dict):
        component = component_name(name)
        properties = {k: _infer(v, k, components) for k, v in sorted(value.items()) if v is not None}
        body = {"type": "object", "required": sorted(properties), "properties": properties}
        if component in components:
            body = merge_object(components[component], body, components)
        components[component] = body
        return {"$ref": f"#/components/schemas/{component}"}
    return {"type": "object"}  # null: nothing is known of the type


def merge_property(old: dict[str, Any], new: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if old == new:
        return old
    if old.get("type") == "array" and new.get("type") == "array":
        return {"type": "array", "items": merge_property(old["items"], new["items"], components)}
    if old.get("type") == "object" and "properties" not in old:
        return new  # a null seen before: the value now shows its type
    if new.get("type") == "object" and "properties" not in new:
        return old
    return new  # the type changed: the latest event's wins (and the schema gets a new version)


def merge_object(old: dict[str, Any], new: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    properties = dict(old.get("properties") or {})
    for key, value in (new.get("properties") or {}).items():
        properties[key] = merge_property(properties[key], value, components) if key in properties else value
    required = sorted(set(old.get("required") or []) & set(new.get("required") or []))
    return {"type": "object", "required": required, "properties": dict(sorted(properties.items()))}


def infer_event(event: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document discovery writes for one event (an EventBridge envelope)."""
    detail_type = str(event.get("detail-type", ""))
    components: dict[str, Any] = {}
    detail_ref = _infer(event.get("detail") or {}, detail_type, components)
    envelope = {
        "type": "object",
        "required": sorted(ENVELOPE_FIELDS) + ["detail"],
        "x-amazon-events-detail-type": detail_type,
        "x-amazon-events-source": event.get("source", ""),
        "properties": dict(sorted({**ENVELOPE_FIELDS, "detail": detail_ref}.items())),
    }
    components["AWSEvent"] = envelope
    return {
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": component_name(detail_type)},
        "paths": {},
        "components": {"schemas": dict(sorted(components.items()))},
    }


def merge_documents(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The latest discovered schema widened by what a new event showed."""
    merged = json.loads(json.dumps(old))
    components = merged.setdefault("components", {}).setdefault("schemas", {})
    for name, body in new["components"]["schemas"].items():
        if name == "AWSEvent" or name not in components:
            components[name] = body if name not in components else components[name]
        else:
            components[name] = merge_object(components[name], body, components)
    merged["components"]["schemas"] = dict(sorted(components.items()))
    return merged


def event_keys(document: dict[str, Any]) -> tuple[str, str] | None:
    """The (source, detail-type) an OpenAPI or JSON Schema document describes, if it says."""
    root = ((document.get("components") or {}).get("schemas") or {}).get("AWSEvent") or document
    source, detail_type = root.get("x-amazon-events-source"), root.get("x-amazon-events-detail-type")
    if isinstance(source, str) and isinstance(detail_type, str):
        return source, detail_type
    return None

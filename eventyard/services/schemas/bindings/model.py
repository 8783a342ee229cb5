"""The classes a code binding declares, read from a schema (as JSON Schema Draft 4): one class per
object type, each with its fields and their types. The language generators only print this."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eventyard.services.schemas.inference import component_name

_REF = re.compile(r"^#/definitions/(.+)$")


@dataclass(frozen=True)
class TypeRef:
    kind: str  # string | number | integer | boolean | any | class | array
    name: str = ""  # the class, for kind "class"
    item: TypeRef | None = None  # the element type, for kind "array"


@dataclass
class Field:
    json_name: str
    type: TypeRef
    required: bool


@dataclass
class ClassDef:
    name: str
    fields: list[Field] = field(default_factory=list)


class _Reader:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.classes: dict[str, ClassDef] = {}

    def type_of(self, schema: Any, hint: str) -> TypeRef:
        if not isinstance(schema, dict):
            return TypeRef("any")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            match = _REF.match(ref)
            if match is None:
                return TypeRef("any")
            name = component_name(match.group(1))
            if name not in self.classes:
                target = (self.document.get("definitions") or {}).get(match.group(1)) or {}
                self.declare(name, target)
            return TypeRef("class", name) if self.classes[name].fields else TypeRef("any")
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "any")
        if kind == "array":
            return TypeRef("array", item=self.type_of(schema.get("items"), hint))
        if kind == "object" or (kind is None and "properties" in schema):
            if not schema.get("properties"):
                return TypeRef("any")
            name = component_name(hint)
            if name not in self.classes:
                self.declare(name, schema)
            return TypeRef("class", name)
        if kind in {"string", "number", "integer", "boolean"}:
            return TypeRef(kind)
        return TypeRef("any")

    def declare(self, name: str, schema: dict[str, Any]) -> None:
        declared = self.classes[name] = ClassDef(name)
        required = set(schema.get("required") or [])
        for json_name, member in (schema.get("properties") or {}).items():
            declared.fields.append(Field(json_name, self.type_of(member, json_name), json_name in required))


def classes(document: dict[str, Any]) -> tuple[str, list[ClassDef]]:
    """The root class's name and every class, root first."""
    reader = _Reader(document)
    root = component_name(str(document.get("title") or "Schema"))
    reader.declare(root, document)
    ordered = [reader.classes[root]] + [c for n, c in reader.classes.items() if n != root]
    return root, ordered


def snake(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "_", name)
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", text).lower().strip("_")
    return text if text and not text[0].isdigit() else f"field_{text}"


def package_path(document: dict[str, Any], schema_name: str) -> list[str]:
    """Where the binding's files live: the event's source split on dots, then its detail type
    (`schema/myapp/orders/orderplaced`), or the schema's name when it describes no event."""
    root = ((document.get("properties") or {}) and document) or {}
    source, detail_type = root.get("x-amazon-events-source"), root.get("x-amazon-events-detail-type")
    if isinstance(source, str) and isinstance(detail_type, str):
        parts = [snake(p) for p in source.split(".") if p] + [snake(component_name(detail_type)).replace("_", "")]
    else:
        parts = [snake(schema_name)]
    return ["schema"] + [p or "schema" for p in parts]

"""Schema documents: checking what CreateSchema/UpdateSchema are given, and exporting an OpenAPI 3
schema as JSON Schema Draft 4 (ExportSchema; also what Eventyard validates events with)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import SchemaError

from eventyard.services.schemas.errors import bad_request

DRAFT4 = "http://json-schema.org/draft-04/schema#"
OPENAPI_REF = "#/components/schemas/"


def parse_content(kind: str, content: str) -> dict[str, Any]:
    """The document `content` holds, or AWS's BadRequestException."""
    try:
        document = json.loads(content)
    except ValueError:
        raise bad_request(f"Invalid {kind} content: the content is not valid JSON.") from None
    if not isinstance(document, dict):
        raise bad_request(f"Invalid {kind} content: the content must be a JSON object.")
    if kind == "OpenApi3":
        if not str(document.get("openapi", "")).startswith("3."):
            raise bad_request("Invalid OpenApi3 content: the document must declare \"openapi\": \"3.0.0\".")
        schemas = (document.get("components") or {}).get("schemas")
        if not isinstance(schemas, dict) or not schemas:
            raise bad_request("Invalid OpenApi3 content: the document must define components.schemas.")
        check_draft4(to_json_schema(document))
    else:
        check_draft4(document)
    return document


def check_draft4(document: dict[str, Any]) -> None:
    try:
        Draft4Validator.check_schema(document)
    except SchemaError as error:
        raise bad_request(f"Invalid JSONSchemaDraft4 content: {error.message}") from None


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (DEFINITIONS_REF + v[len(OPENAPI_REF):] if k == "$ref" and isinstance(v, str)
                    and v.startswith(OPENAPI_REF) else _rewrite_refs(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value


DEFINITIONS_REF = "#/definitions/"


def to_json_schema(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3 document as JSON Schema Draft 4: the root component (`AWSEvent` when there is
    one) at the top, the others under `definitions`. A Draft 4 document is returned as it is."""
    if "openapi" not in document:
        return document
    components = dict((document.get("components") or {}).get("schemas") or {})
    root_name = "AWSEvent" if "AWSEvent" in components else next(iter(components))
    root = _rewrite_refs(components.pop(root_name))
    exported: dict[str, Any] = {"$schema": DRAFT4, "title": root_name, **root}
    if components:
        exported["definitions"] = _rewrite_refs(components)
    return exported

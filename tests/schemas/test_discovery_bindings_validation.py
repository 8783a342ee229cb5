"""Discovery from live bus traffic, code bindings that import and compile, and the opt-in validation
of PutEvents entries against a registry (beyond AWS)."""

from __future__ import annotations

import importlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.pipes.conftest import eventually

TS_DIR = Path(__file__).parent / "ts"


def _discovered(schemas: Any, name: str) -> list[str]:
    try:
        versions = schemas.list_schema_versions(RegistryName="discovered-schemas", SchemaName=name)
    except schemas.exceptions.NotFoundException:
        return []
    return [v["SchemaVersion"] for v in versions["SchemaVersions"]]


def _detail_properties(schemas: Any, name: str, version: str) -> dict[str, Any]:
    content = json.loads(schemas.describe_schema(RegistryName="discovered-schemas", SchemaName=name,
                                                 SchemaVersion=version)["Content"])
    return dict(content["components"]["schemas"]["OrderPlaced"]["properties"])


def _put(events: Any, bus: str, source: str, detail: dict[str, Any]) -> dict[str, Any]:
    return dict(events.put_events(Entries=[{"EventBusName": bus, "Source": source, "DetailType": "Order Placed",
                                            "Detail": json.dumps(detail)}]))


def test_a_discoverer_writes_a_schema_per_source_and_detail_type_and_versions_new_fields(
        schemas: Any, events: Any, unique: str) -> None:
    bus = f"bus-{unique}"
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    discoverer = schemas.create_discoverer(SourceArn=bus_arn, Description="watch")
    assert discoverer["State"] == "STARTED" and discoverer["DiscovererId"] == f"events-event-bus-{bus}"
    source = f"shop.{unique}"
    name = f"{source}@OrderPlaced"
    _put(events, bus, source, {"id": "o-1", "total": 10})
    assert eventually(lambda: _discovered(schemas, name)) == ["1"]
    assert set(_detail_properties(schemas, name, "1")) == {"id", "total"}
    _put(events, bus, source, {"id": "o-2", "total": 12})  # the same shape: no new version
    _put(events, bus, source, {"id": "o-3", "total": 5, "coupon": "SAVE"})  # a field appears
    assert eventually(lambda: _discovered(schemas, name) == ["1", "2"])
    assert set(_detail_properties(schemas, name, "2")) == {"id", "total", "coupon"}
    described = schemas.describe_schema(RegistryName="discovered-schemas", SchemaName=name)
    assert described["Type"] == "OpenApi3" and described["SchemaVersion"] == "2"
    schemas.stop_discoverer(DiscovererId=discoverer["DiscovererId"])
    assert schemas.describe_discoverer(DiscovererId=discoverer["DiscovererId"])["State"] == "STOPPED"
    _put(events, bus, source, {"id": "o-4", "total": 1, "gift": True})
    assert [d["DiscovererId"] for d in schemas.list_discoverers(SourceArnPrefix=bus_arn)["Discoverers"]] == [
        discoverer["DiscovererId"]]
    schemas.delete_discoverer(DiscovererId=discoverer["DiscovererId"])
    assert _discovered(schemas, name) == ["1", "2"]  # a stopped discoverer discovers nothing


def _binding(schemas: Any, registry: str, name: str, language: str) -> zipfile.ZipFile:
    put = schemas.put_code_binding(RegistryName=registry, SchemaName=name, Language=language)
    assert put["Status"] in {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}
    schemas.get_waiter("code_binding_exists").wait(RegistryName=registry, SchemaName=name, Language=language,
                                                   WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    body = schemas.get_code_binding_source(RegistryName=registry, SchemaName=name, Language=language)["Body"]
    return zipfile.ZipFile(io.BytesIO(body.read()))


@pytest.fixture
def discovered_order(schemas: Any, events: Any, unique: str) -> tuple[str, dict[str, Any]]:
    bus = f"bus-{unique}"
    schemas.create_discoverer(SourceArn=events.create_event_bus(Name=bus)["EventBusArn"])
    source = f"shop.orders{unique}"  # each source part becomes a package (a part must not start with a digit)
    detail = {"orderId": "o-1", "total": 12.5, "items": [{"sku": "a", "quantity": 2}], "customer": {"name": "Ada"},
              "class": "gold"}
    _put(events, bus, source, detail)
    name = f"{source}@OrderPlaced"
    eventually(lambda: _discovered(schemas, name))
    return name, detail


def test_python_code_bindings_import_and_read_the_event(schemas: Any, discovered_order: tuple[str, dict[str, Any]],
                                                        tmp_path: Path, unique: str) -> None:
    name, detail = discovered_order
    archive = _binding(schemas, "discovered-schemas", name, "Python36")
    archive.extractall(tmp_path)
    package = f"schema.shop.orders{unique}.orderplaced"
    assert f"schema/shop/orders{unique}/orderplaced/marshaller.py" in archive.namelist()
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(package)
        event = {"version": "0", "id": "1", "detail-type": "Order Placed", "source": f"shop.orders{unique}", "account": "1",
                 "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": detail}
        typed = module.Marshaller.unmarshall(event, "AWSEvent")
        assert typed.detail.order_id == "o-1" and typed.detail.items[0].sku == "a"
        assert typed.detail.customer.name == "Ada" and typed.detail.class_ == "gold"
        assert module.Marshaller.marshall(typed) == event
    finally:
        sys.path.remove(str(tmp_path))
        for loaded in [m for m in sys.modules if m == "schema" or m.startswith("schema.")]:
            del sys.modules[loaded]


def test_typescript_code_bindings_compile(schemas: Any, discovered_order: tuple[str, dict[str, Any]],
                                          tmp_path: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm are not installed: the TypeScript compile check needs them")
    if not (TS_DIR / "node_modules" / ".bin" / "tsc").exists():
        install = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TS_DIR,
                                 capture_output=True, text=True, timeout=300)
        assert install.returncode == 0, install.stderr
    name, detail = discovered_order
    archive = _binding(schemas, "discovered-schemas", name, "TypeScript3")
    archive.extractall(tmp_path)
    index = next(n for n in archive.namelist() if n.endswith("index.ts"))
    (tmp_path / "use.ts").write_text(
        f'import {{ Marshaller, AWSEvent }} from "./{index[:-3]}";\n'
        f"const event: AWSEvent = Marshaller.unmarshal({json.dumps({'detail': detail})}, \"AWSEvent\");\n"
        "const total: number | undefined = event.detail.total;\n"
        "console.log(JSON.stringify({ total, sku: event.detail.items[0].sku }));\n")
    compiled = subprocess.run([str(TS_DIR / "node_modules" / ".bin" / "tsc"), "--strict", "--target", "es2019",
                               "--module", "commonjs", "--outDir", str(tmp_path / "out"), str(tmp_path / "use.ts")],
                              capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    run = subprocess.run(["node", str(tmp_path / "out" / "use.js")], capture_output=True, text=True, timeout=60)
    assert json.loads(run.stdout) == {"total": 12.5, "sku": "a"}


def test_a_registry_that_validates_a_bus_rejects_events_that_do_not_match(
        schemas: Any, events: Any, unique: str) -> None:
    bus = f"bus-{unique}"
    events.create_event_bus(Name=bus)
    registry = f"contracts-{unique}"
    schemas.create_registry(RegistryName=registry, Tags={"eventyard:validate-buses": bus})
    schemas.create_schema(RegistryName=registry, SchemaName="shop@OrderPlaced", Type="JSONSchemaDraft4",
                          Content=json.dumps({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                                              "required": ["orderId", "total"],
                                              "properties": {"orderId": {"type": "string"},
                                                             "total": {"type": "number", "minimum": 0}}}))
    answer = events.put_events(Entries=[
        {"EventBusName": bus, "Source": "shop", "DetailType": "Order Placed",
         "Detail": json.dumps({"orderId": "o-1", "total": 3})},
        {"EventBusName": bus, "Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"orderId": 7})},
        {"EventBusName": bus, "Source": "other", "DetailType": "Order Placed", "Detail": json.dumps({"any": 1})},
    ])
    assert answer["FailedEntryCount"] == 1
    good, bad, unchecked = answer["Entries"]
    assert "EventId" in good and "EventId" in unchecked  # no schema for `other`: not validated
    assert bad["ErrorCode"] == "InvalidArgument"
    assert "shop@OrderPlaced version 1" in bad["ErrorMessage"] and "'total' is a required property" in bad["ErrorMessage"]
    elsewhere = events.put_events(Entries=[{"Source": "shop", "DetailType": "Order Placed", "Detail": "{}"}])
    assert elsewhere["FailedEntryCount"] == 0  # the default bus is not validated by this registry
    schemas.untag_resource(ResourceArn=schemas.describe_registry(RegistryName=registry)["RegistryArn"],
                           TagKeys=["eventyard:validate-buses"])
    after = events.put_events(Entries=[{"EventBusName": bus, "Source": "shop", "DetailType": "Order Placed",
                                        "Detail": json.dumps({"orderId": 7})}])
    assert after["FailedEntryCount"] == 0

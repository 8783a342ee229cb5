"""The schema registry at EventBridge's door: discovery of what enters a bus, and (beyond AWS) the
opt-in validation of PutEvents entries against a registry's schemas.

EventBridge's PutEvents hands every entry to `screen` before accepting it and every accepted event
to `observe` afterwards (the PUT_EVENTS_HOOK port, runtime/ports.py). Both return at once for a bus that neither
a started discoverer watches nor a registry validates, so an ordinary PutEvents pays two set lookups.

Discovery runs beside the request path: observed events are queued in memory and a supervised loop
folds them into `discovered-schemas` (one schema per source and detail type, a new version when the
shape widens). Like AWS's discovery it is eventual; events queued when the server is killed are not
discovered (they were delivered: only their schema is missing until the next such event).

Validation is opted into per bus by tagging a registry with `eventyard:validate-buses` = the names
of the buses (space-separated). An entry whose source and detail type have a schema in that registry
(by the schema's `x-amazon-events-source`/`x-amazon-events-detail-type`, or its name
`<source>@<DetailType>`) must match the schema's latest version, else PutEvents answers the entry
with `InvalidArgument` and what did not match. A schema that declares a `detail` property describes
the whole event; any other describes the detail.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator

from eventyard.services.schemas import discoverers, store
from eventyard.services.schemas.documents import to_json_schema
from eventyard.services.schemas.inference import (
    DISCOVERED_REGISTRY,
    component_name,
    event_keys,
    infer_event,
    merge_documents,
    schema_name,
)
from eventyard.services.transform import iso_time
from eventyard.storage import Connection

log = logging.getLogger(__name__)
VALIDATE_TAG = "eventyard:validate-buses"
BusKey = tuple[str, str, str]  # account, region, bus name
RegistryKey = tuple[str, str, str]  # account, region, registry name


@dataclass
class Check:
    """A schema an entry is validated against."""

    label: str  # registry/schema version N
    validator: Draft4Validator
    whole_event: bool


def _bus_of(account: str, entry: dict[str, Any]) -> tuple[str, str]:
    given = entry.get("EventBusName") or "default"
    if given.startswith("arn:"):
        parts = given.split(":", 5)
        return parts[4], parts[5].split("/", 1)[1]
    return account, given


class Intake:
    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.discovering: set[BusKey] = set()
        self.validating: dict[BusKey, str] = {}
        self.checks: dict[RegistryKey, dict[tuple[str, str], Check]] = {}
        self.pending: list[tuple[BusKey, dict[str, Any]]] = []
        self.wake = asyncio.Event()

    # -- what is watched, validated (rebuilt from storage after each change) ---------------
    def load(self, conn: Connection) -> None:
        self.discovering = discoverers.started_buses(conn)
        validating: dict[BusKey, str] = {}
        for registry in store.all_registries(conn):
            for bus in (registry.tags.get(VALIDATE_TAG) or "").split():
                validating[(registry.account, registry.region, bus)] = registry.name
        self.validating = validating
        self.checks.clear()

    async def reload(self) -> None:
        await self.platform.db.read(self.load)

    def forget_registry(self, account: str, region: str, registry: str) -> None:
        self.checks.pop((account, region, registry), None)

    # -- validation ------------------------------------------------------------------------
    async def screen(self, account: str, region: str, entry: dict[str, Any]) -> tuple[str, str] | None:
        """PutEvents asks before accepting an entry: None, or the entry's (ErrorCode, ErrorMessage)."""
        if not self.validating:
            return None
        bus_account, bus = _bus_of(account, entry)
        registry = self.validating.get((bus_account, region, bus))
        if registry is None:
            return None
        checks = self.checks.get((bus_account, region, registry))
        if checks is None:
            checks = await self.platform.db.read(lambda conn: _compile_checks(conn, bus_account, region, registry))
            self.checks[(bus_account, region, registry)] = checks
        source, detail_type = str(entry["Source"]), str(entry["DetailType"])
        check = checks.get((source, detail_type)) or checks.get((source, component_name(detail_type)))
        if check is None:
            return None
        detail = json.loads(entry["Detail"])
        when = entry.get("Time")
        document = {"version": "0", "id": "00000000-0000-0000-0000-000000000000", "detail-type": entry["DetailType"],
                    "source": entry["Source"], "account": account, "region": region,
                    "time": iso_time(float(when) if when is not None else self.platform.clock.now()),
                    "resources": list(entry.get("Resources") or []), "detail": detail}
        error = next(iter(sorted(check.validator.iter_errors(document if check.whole_event else detail),
                                 key=lambda e: list(e.absolute_path))), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return "InvalidArgument", f"Event does not match schema {check.label}: {error.message} at {where}."

    # -- discovery -------------------------------------------------------------------------
    def observe(self, accepted: Iterable[Any]) -> None:
        """PutEvents reports what it accepted (items with `bus` and `event`)."""
        if not self.discovering:
            return
        for item in accepted:
            if item.bus in self.discovering:
                self.pending.append((item.bus, item.event))
        if self.pending:
            self.wake.set()

    async def discover(self) -> None:
        """Fold the queued events into `discovered-schemas`: one write for the whole batch."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        inferred: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for (account, region, _), event in pending:
            key = (account, region, str(event.get("source")), str(event.get("detail-type")))
            document = infer_event(event)
            inferred[key] = merge_documents(inferred[key], document) if key in inferred else document
        now = self.platform.clock.now()
        await self.platform.db.write(lambda conn: _write_discovered(conn, inferred, now))
        for account, region, _, _ in inferred:
            self.forget_registry(account, region, DISCOVERED_REGISTRY)


def _compile_checks(conn: Connection, account: str, region: str, name: str) -> dict[tuple[str, str], Check]:
    registry = store.find_registry(conn, account, region, name)
    if registry is None:
        return {}
    checks: dict[tuple[str, str], Check] = {}
    for schema in store.list_schemas(conn, registry):
        latest = store.version(conn, schema, None)
        document = to_json_schema(json.loads(latest["content"]))
        keys = event_keys(document)
        if keys is None and "@" in schema.name:
            source, _, detail_type = schema.name.partition("@")
            keys = (source, detail_type)
        if keys is None:
            continue
        whole = "detail" in (document.get("properties") or {})
        checks[keys] = Check(f"{name}/{schema.name} version {latest['version']}", Draft4Validator(document), whole)
    return checks


def _write_discovered(conn: Connection, inferred: dict[tuple[str, str, str, str], dict[str, Any]], now: float) -> None:
    for (account, region, source, detail_type), document in inferred.items():
        store.ensure_managed(conn, account, region, now)
        registry = store.get_registry(conn, account, region, DISCOVERED_REGISTRY)
        name = schema_name(source, detail_type)
        schema = store.find_schema(conn, registry, name)
        if schema is not None:
            latest = json.loads(store.version(conn, schema, None)["content"])
            merged = merge_documents(latest, document)
            if merged == latest:
                continue  # the same shape: no new version
            document = merged
        store.put_schema(conn, account, region, DISCOVERED_REGISTRY, name, "OpenApi3", json.dumps(document),
                         None, {}, now)

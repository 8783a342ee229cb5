"""Each service's state has one owner: a module of one service never imports another service's
modules (its store, provider, delivery, anything touching the database or holding state) and never
reaches into another service's provider object. Services reach each other through `Platform.call`
(an operation, as a client would) or a named, typed port (runtime/ports.py).

The only exceptions are the pure helpers below, each with its reason; the test checks that each one
stays pure (no storage, no SQL, no platform state, and only pure helpers imported in turn). Modules
under eventyard/services/ that are not a service (base, paging, transform, sources, ...) are shared by
all and are not services' state."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from eventyard.services.registry import SERVICE_PACKAGES
from tests import test_import_cycles
from tests.test_import_cycles import PACKAGE

SERVICES = frozenset(SERVICE_PACKAGES)

# Pure helpers another service may import: module -> why it is not state.
PURE_HELPERS = {
    "eventyard.services.iam.trust": "asks IAM's GetRole through Platform.call and reads the trust policy "
                                    "with IAM's pure document helpers (Lambda, Step Functions)",
    "eventyard.services.iam.documents": "policy document parsing and trust evaluation, no storage",
    "eventyard.services.iam.names": "IAM's name and id shapes (role ARNs, AKIA/ASIA key ids), no storage",
    "eventyard.services.iam.errors": "IAM's and STS's shared query-protocol validation wording",
}

# What makes a module stateful: the storage layer, SQL, the platform's database, its services or ports.
STATEFUL = re.compile(r"eventyard\.storage|\.execute(many)?\(|\bdb\.|\.services\[|\.services\.get\(|ports\.provide")
# A look-up in the platform's service table, the way to another service's provider object (a test
# for membership, `"iam" in platform.services`, is not one).
PROVIDER_REACH = re.compile(r"\.services(\[|\.get\()")


@cache
def import_graph() -> dict[str, set[str]]:
    return test_import_cycles.import_graph()


def service_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["eventyard", "services"] and parts[2] in SERVICES:
        return parts[2]
    return None


def reaches(graph: dict[str, set[str]], allowed: dict[str, str]) -> list[str]:
    """`importer -> imported` for each import of another service's module that is not allowed."""
    found = []
    for importer, imported in sorted(graph.items()):
        owner = service_of(importer)
        if owner is None:
            continue
        for target in sorted(imported):
            other = service_of(target)
            if other is not None and other != owner and target not in allowed:
                found.append(f"{importer} -> {target}")
    return found


def source(module: str) -> str:
    path = PACKAGE.parent / Path(*module.split("."))
    return (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text()


def impure(module: str, graph: dict[str, set[str]], seen: set[str] | None = None) -> list[str]:
    """Why `module` is not a pure helper: its own stateful code or a stateful module it imports."""
    seen = set() if seen is None else seen
    if module in seen:
        return []
    seen.add(module)
    problems = [f"{module}: {match.group(0)}" for match in STATEFUL.finditer(source(module))]
    for target in sorted(graph.get(module, set())):
        if service_of(target) is not None:
            problems += impure(target, graph, seen)
    return problems


def test_the_finder_sees_a_reach_and_lets_a_neighbour_and_a_shared_module_pass() -> None:
    graph = {
        "eventyard.services.scheduler.provider": {"eventyard.services.events.store",
                                                  "eventyard.services.scheduler.store",
                                                  "eventyard.services.paging", "eventyard.runtime.ports"},
        "eventyard.services.lambda_.provider": {"eventyard.services.iam.trust"},
        "eventyard.server.platform": {"eventyard.services.events.store"},
    }
    assert reaches(graph, {"eventyard.services.iam.trust": "pure"}) == [
        "eventyard.services.scheduler.provider -> eventyard.services.events.store"]


def test_no_service_imports_another_services_modules() -> None:
    graph = import_graph()
    assert reaches(graph, PURE_HELPERS) == []


def test_each_allowed_helper_is_imported_pure_and_has_a_reason() -> None:
    graph = import_graph()
    imported = {target for targets in graph.values() for target in targets}
    for module, reason in PURE_HELPERS.items():
        assert module in imported, f"{module} is allowed but nothing imports it: drop it from PURE_HELPERS"
        assert reason.strip(), module
        assert impure(module, graph) == [], f"{module} is allowed as a pure helper but is not pure"


def test_the_purity_check_sees_storage() -> None:
    assert impure("eventyard.services.events.store", import_graph()) != []
    assert impure("eventyard.services.iam.documents", import_graph()) == []


def test_no_service_reaches_into_another_services_provider() -> None:
    found = []
    for path in sorted((PACKAGE / "services").rglob("*.py")):
        for match in PROVIDER_REACH.finditer(path.read_text()):
            found.append(f"{path.relative_to(PACKAGE.parent)}: {match.group(0)}")
    assert found == []


def test_the_provider_reach_pattern_matches_both_spellings() -> None:
    assert PROVIDER_REACH.search('self.platform.services["events"].provider')
    assert PROVIDER_REACH.search('events = self.platform.services.get("events")')
    assert not PROVIDER_REACH.search('if "iam" not in platform.services:')

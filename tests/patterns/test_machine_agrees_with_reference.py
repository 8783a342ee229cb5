"""Differential test: the compiled Machine returns exactly the rules the reference matcher finds,
over thousands of generated pattern sets and events (including adds, replaces and removes)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eventyard.patterns import Machine, compile_event_pattern
from eventyard.patterns.reference import reference_match_all

SCALARS = ["x", "y", "xy", "XY", "yx", "10.0.0.1", "10.0.1.1", "", 1, 2, 2.0, 5, -3.5, None, True, False]
EXPRESSIONS: list[Any] = [
    {"prefix": "x"}, {"prefix": ""}, {"suffix": "y"}, {"prefix": {"equals-ignore-case": "X"}},
    {"suffix": {"equals-ignore-case": "Y"}}, {"equals-ignore-case": "xy"}, {"wildcard": "x*"},
    {"wildcard": "*y*"}, {"anything-but": "x"}, {"anything-but": [1, 2]}, {"anything-but": {"prefix": "x"}},
    {"anything-but": {"suffix": "y"}}, {"anything-but": {"equals-ignore-case": "XY"}},
    {"anything-but": {"wildcard": "*y"}}, {"numeric": [">", 1]}, {"numeric": [">=", 1, "<", 5]},
    {"numeric": ["=", 2]}, {"numeric": ["<=", -3.5]}, {"exists": True}, {"exists": False},
    {"cidr": "10.0.0.0/24"},
]
PATHS = ["a", "b", "c.d", "c.e", "arr.x", "arr.y", "arr.z.w"]

value_lists = st.lists(st.one_of(st.sampled_from(SCALARS), st.sampled_from(EXPRESSIONS)), min_size=1, max_size=3)
conjunctions = st.dictionaries(st.sampled_from(PATHS), value_lists, min_size=1, max_size=3)


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, values in flat.items():
        *parents, leaf = path.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = values
    return out


@st.composite
def patterns(draw: Any) -> str:
    base = nest(draw(conjunctions))
    if draw(st.booleans()):
        base["$or"] = [nest(draw(conjunctions)) for _ in range(draw(st.integers(2, 3)))]
    return json.dumps(base)


scalar_or_list = st.one_of(st.sampled_from(SCALARS), st.lists(st.sampled_from(SCALARS), max_size=3))
elements = st.fixed_dictionaries({}, optional={
    "x": scalar_or_list, "y": scalar_or_list, "z": st.fixed_dictionaries({}, optional={"w": scalar_or_list})})
events = st.fixed_dictionaries({}, optional={
    "a": scalar_or_list, "b": scalar_or_list,
    "c": st.fixed_dictionaries({}, optional={"d": scalar_or_list, "e": scalar_or_list}),
    "arr": st.one_of(st.lists(elements, max_size=3), st.lists(st.lists(elements, max_size=2), max_size=2)),
})


@settings(max_examples=400, deadline=None)
@given(st.lists(patterns(), min_size=1, max_size=8), st.lists(events, min_size=1, max_size=6))
def test_machine_finds_exactly_the_rules_the_reference_matcher_finds(texts, sample_events):
    compiled = {i: compile_event_pattern(t) for i, t in enumerate(texts)}
    machine = Machine()
    for rule_id, pattern in compiled.items():
        machine.add(rule_id, pattern)
    for event in sample_events:
        assert machine.match(event) == reference_match_all(compiled, event), (texts, event)


@settings(max_examples=200, deadline=None)
@given(st.lists(patterns(), min_size=2, max_size=8), st.data(), st.lists(events, min_size=1, max_size=4))
def test_machine_stays_in_agreement_after_replacing_and_removing_rules(texts, data, sample_events):
    compiled = {i: compile_event_pattern(t) for i, t in enumerate(texts)}
    machine = Machine()
    for rule_id, pattern in compiled.items():
        machine.add(rule_id, pattern)
    for rule_id in data.draw(st.lists(st.sampled_from(sorted(compiled)), unique=True)):
        if data.draw(st.booleans()):
            machine.remove(rule_id)
            del compiled[rule_id]
        else:
            compiled[rule_id] = compile_event_pattern(data.draw(patterns()))
            machine.add(rule_id, compiled[rule_id])
    for event in sample_events:
        assert machine.match(event) == reference_match_all(compiled, event), (texts, event)

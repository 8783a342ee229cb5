"""The pattern engine explains non-matches: which field fails, what the pattern wants, what the
event has — and it agrees with the matcher on whether there is anything to explain."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from eventyard.patterns import compile_event_pattern, compile_filter_policy
from eventyard.patterns.explain import explain


def test_a_matching_event_needs_no_explanation() -> None:
    pattern = compile_event_pattern('{"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}')
    assert explain(pattern, {"source": "shop", "detail": {"total": 120}}) == []


def test_the_failing_field_is_named_with_what_was_wanted_and_found() -> None:
    pattern = compile_event_pattern('{"source": ["shop"], "detail": {"status": ["paid", "shipped"]}}')
    [reason] = explain(pattern, {"source": "shop", "detail": {"status": "cancelled"}})
    assert reason.path == "detail.status" and reason.found == ["cancelled"]
    assert reason.expected == '"paid" or "shipped"'
    assert reason.reason == 'detail.status is "cancelled"; the pattern wants "paid" or "shipped"'


def test_an_absent_field_is_reported_as_absent() -> None:
    pattern = compile_event_pattern('{"detail": {"customer": {"tier": [{"prefix": "gold"}]}}}')
    [reason] = explain(pattern, {"detail": {}})
    assert reason.path == "detail.customer.tier" and reason.found == []
    assert reason.reason == 'detail.customer.tier is absent; the pattern wants prefix "gold"'


def test_operators_are_described_in_pattern_words() -> None:
    pattern = compile_event_pattern(
        '{"detail": {"n": [{"numeric": [">=", 10, "<", 20]}], "s": [{"anything-but": ["x", "y"]}]}}')
    reasons = explain(pattern, {"detail": {"n": 25, "s": "ok"}})
    assert [r.expected for r in reasons] == ["a number >= 10 and < 20"]
    reasons = explain(pattern, {"detail": {"n": 15, "s": "x"}})
    assert [r.expected for r in reasons] == ['anything but "x", "y"']


def test_each_or_branch_gets_its_own_reason() -> None:
    pattern = compile_event_pattern('{"$or": [{"source": ["a"]}, {"detail-type": ["b"]}]}')
    reasons = explain(pattern, {"source": "z", "detail-type": "y"})
    assert {r.path for r in reasons} == {"source", "detail-type"}


def test_fields_matching_in_different_array_elements_are_explained() -> None:
    pattern = compile_event_pattern('{"detail": {"items": {"sku": ["A"], "qty": [2]}}}')
    event = {"detail": {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}}
    [reason] = explain(pattern, event)
    assert "same array element" in reason.expected


def test_sns_filter_policies_are_explained_too() -> None:
    policy = compile_filter_policy('{"color": ["red"]}', scope="MessageBody")
    [reason] = explain(policy, {"color": "blue"})
    assert reason.path == "color" and reason.found == ["blue"]


_values = st.one_of(st.sampled_from(["a", "b", "c"]), st.integers(0, 3), st.none())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.lists(_values, min_size=1, max_size=3), min_size=1),
       st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _values))
def test_explain_is_empty_exactly_when_the_pattern_matches(pattern_fields: dict, event: dict) -> None:
    pattern = compile_event_pattern(json.dumps({"detail": pattern_fields}))
    wrapped = {"detail": event}
    assert (explain(pattern, wrapped) == []) == pattern.matches(wrapped)

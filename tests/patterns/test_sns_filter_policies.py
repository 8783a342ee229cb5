"""SNS filter policies in both scopes, from the SNS "message filtering" pages."""

from __future__ import annotations

import json

import pytest

from eventyard.patterns import InvalidPattern, compile_filter_policy, sns_attributes_to_event

ATTRIBUTES = {
    "customer_interests": {"DataType": "String.Array", "StringValue": '["soccer", "rugby", "hockey"]'},
    "store": {"DataType": "String", "StringValue": "example_corp"},
    "event": {"DataType": "String", "StringValue": "order_placed"},
    "price_usd": {"DataType": "Number", "StringValue": "210.75"},
    "encrypted": {"DataType": "Binary", "BinaryValue": b"\x00"},
}


def attributes_match(policy: dict) -> bool:
    return compile_filter_policy(json.dumps(policy)).matches(sns_attributes_to_event(ATTRIBUTES))


@pytest.mark.parametrize("policy, expected", [
    ({"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}],
      "customer_interests": ["rugby", "football", "baseball"], "price_usd": [{"numeric": [">=", 100]}]}, True),
    ({"customer_interests": ["basketball"]}, False),
    ({"price_usd": [210.75]}, True),
    ({"price_usd": ["210.75"]}, False),
    ({"price_usd": [{"numeric": ["<", 100]}]}, False),
    ({"store": [{"prefix": "example"}]}, True),
    ({"store": [{"suffix": "_corp"}]}, True),
    ({"store": [{"equals-ignore-case": "EXAMPLE_CORP"}]}, True),
    ({"store": [{"anything-but": {"prefix": "example"}}]}, False),
    ({"store": [{"exists": True}]}, True),
    ({"encrypted": [{"exists": True}]}, False),
    ({"missing": [{"exists": False}]}, True),
    ({"event": [{"anything-but": ["order_placed", "order_cancelled"]}]}, False),
    ({"$or": [{"store": ["other"]}, {"event": ["order_placed"]}]}, True),
])
def test_attribute_scope_policies_match_as_documented(policy, expected):
    assert attributes_match(policy) is expected


def test_cidr_matches_source_ip_attributes():
    policy = compile_filter_policy('{"source_ip": [{"cidr": "10.0.0.0/24"}]}')
    assert policy.matches(sns_attributes_to_event({"source_ip": {"DataType": "String", "StringValue": "10.0.0.7"}}))
    assert not policy.matches(sns_attributes_to_event({"source_ip": {"DataType": "String", "StringValue": "10.1.0.7"}}))


def test_body_scope_matches_nested_payload_properties():
    policy = compile_filter_policy('{"store": {"name": ["example_corp"]}, "price": [{"numeric": [">", 10]}]}',
                                   "MessageBody")
    assert policy.matches({"store": {"name": "example_corp"}, "price": 11})
    assert not policy.matches({"store": {"name": "example_corp"}, "price": 10})


def test_attribute_scope_refuses_nested_policies():
    with pytest.raises(InvalidPattern) as caught:
        compile_filter_policy('{"store": {"name": ["x"]}}')
    assert caught.value.full_message == (
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy")


def test_a_policy_with_more_than_five_keys_is_refused():
    policy = json.dumps({f"k{i}": ["v"] for i in range(6)})
    with pytest.raises(InvalidPattern) as caught:
        compile_filter_policy(policy)
    assert caught.value.message == "Filter policy can not have more than 5 keys"
    assert caught.value.full_message == "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys"


def test_more_than_150_value_combinations_is_too_complex():
    ok = json.dumps({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(15)]})
    compile_filter_policy(ok)
    too_many = json.dumps({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(16)]})
    with pytest.raises(InvalidPattern, match="Filter policy is too complex"):
        compile_filter_policy(too_many)


def test_or_branches_add_up_in_the_combination_count():
    branch = {"a": [str(i) for i in range(75)]}
    compile_filter_policy(json.dumps({"$or": [branch, {"b": [str(i) for i in range(75)]}]}))
    with pytest.raises(InvalidPattern, match="too complex"):
        compile_filter_policy(json.dumps({"$or": [branch, {"b": [str(i) for i in range(76)]}]}))


def test_numbers_beyond_one_billion_are_refused():
    with pytest.raises(InvalidPattern):
        compile_filter_policy('{"n": [{"numeric": [">", 1000000001]}]}')
    compile_filter_policy('{"n": [{"numeric": [">", 1000000000]}]}')


def test_wildcard_is_an_eventbridge_only_operator():
    with pytest.raises(InvalidPattern, match="Unrecognized match type wildcard"):
        compile_filter_policy('{"a": [{"wildcard": "x*"}]}')


def test_policies_larger_than_256_kb_are_refused():
    with pytest.raises(InvalidPattern):
        compile_filter_policy(json.dumps({"a": ["x" * (256 * 1024)]}))


def test_attributes_become_the_document_policies_match_against():
    assert sns_attributes_to_event(ATTRIBUTES) == {
        "customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp",
        "event": "order_placed", "price_usd": 210.75}

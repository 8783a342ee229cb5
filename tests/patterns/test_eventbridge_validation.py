"""EventBridge rejects invalid patterns with its own reason texts."""

from __future__ import annotations

import pytest

from eventyard.patterns import InvalidEvent, InvalidPattern, compile_event_pattern, validate_test_event

ERRORS = [
    ('{"resources": []}', "Empty arrays are not allowed"),
    ('{"int": 42}', '"int" must be an object or an array'),
    ('["a"]', "Filter is not an object"),
    ("this is not json", "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object "
                         "or token 'null', 'true' or 'false')"),
    ("{'bad': 'quotes'}", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
    ('{"a": [{"EXISTS": true}]}', "Unrecognized match type EXISTS"),
    ('{"a": [{"exists": "yes"}]}', "exists match pattern must be either true or false."),
    ('{"a": [{"prefix": "x", "suffix": "y"}]}', "Only one key allowed in match expression"),
    ('{"a": [{"prefix": 1}]}', "prefix match pattern must be a string"),
    ('{"a": [{"suffix": ["x"]}]}', "suffix match pattern must be a string"),
    ('{"a": [{"prefix": {"nope": "x"}}]}', "Unsupported prefix pattern: nope"),
    ('{"a": [{"equals-ignore-case": ["x"]}]}', "equals-ignore-case match pattern must be a string"),
    ('{"a": [{"wildcard": 1}]}', "wildcard match pattern must be a string"),
    ('{"a": [{"wildcard": "a**b"}]}', "Consecutive wildcard characters at pos 2"),
    ('{"a": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}',
     "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences "
     "after a wildcard character"),
    ('{"a": [{"cidr": "bad"}]}', "Malformed CIDR, one '/' required"),
    ('{"a": [{"cidr": "10.0.0.0/x"}]}', "Malformed CIDR, mask bits must be an integer"),
    ('{"a": [{"cidr": "xx.1/8"}]}', "Nonstandard IP address: xx.1"),
    ('{"a": [{"cidr": ["10.0.0.0/8"]}]}', "prefix match pattern must be a string"),
    ('{"a": [{"numeric": 5}]}', "Value of numeric must be an array."),
    ('{"a": [{"numeric": [">", 0, ">", 1]}]}', "Bad numeric range operator: >"),
    ('{"a": [{"numeric": ["<>", 0]}]}', "Unrecognized numeric range operator: <>"),
    ('{"a": [{"numeric": [">", 0, "<"]}]}', "Value of < must be numeric"),
    ('{"a": [{"numeric": ["=", "1"]}]}', "Value of equals must be numeric"),
    ('{"a": [{"numeric": ["<", 1, ">", 0]}]}', "Too many elements in numeric expression"),
    ('{"a": [{"numeric": [">", 5, "<", 1]}]}', "Bottom must be less than top"),
    ('{"a": [{"numeric": [">", 1, "<", 5, 6]}]}', "Too many terms in numeric range expression"),
    ('{"a": [{"numeric": ["=", 1E309]}]}', "Cannot compare number : 1E309"),
    ('{"a": [{"anything-but": null}]}', "Value of anything-but must be an array or single string/number value."),
    ('{"a": [{"anything-but": ["x", null]}]}', "Inside anything but list, start|null|boolean is not supported."),
    ('{"a": [{"anything-but": ["x", 1]}]}',
     "Inside anything but list, either all values are number or string, mixed type is not supported"),
    ('{"a": [{"anything-but": {"prefix": ""}}]}', "Null prefix/suffix not allowed"),
    ('{"a": [{"anything-but": {"suffix": 1}}]}', "prefix/suffix match pattern must be a string"),
    ('{"a": [{"anything-but": {"prefix": {"equals-ignore-case": "x"}}}]}',
     "Value of anything-but must be an array or single string/number value."),
    ('{"a": [{"anything-but": {"equals-ignore-case": 1}}]}',
     "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."),
    ('{"a": [{"anything-but": {"wildcard": 1}}]}', "wildcard match pattern must be a string"),
    ('{"a": [{"anything-but": {"foo": "x"}}]}', "Unsupported anything-but pattern: foo"),
]


@pytest.mark.parametrize("pattern, reason", ERRORS)
def test_invalid_patterns_are_rejected_with_the_aws_reason(pattern, reason):
    with pytest.raises(InvalidPattern) as caught:
        compile_event_pattern(pattern)
    assert caught.value.message == reason
    assert caught.value.full_message == f"Event pattern is not valid. Reason: {reason}{caught.value.location}"


def test_a_one_element_or_is_an_ordinary_field_and_so_its_operator_is_unrecognized():
    with pytest.raises(InvalidPattern, match="Unrecognized match type metricName"):
        compile_event_pattern('{"$or": [{"metricName": ["CPUUtilization"]}]}')


@pytest.mark.parametrize("event", ["plain", ["x"], {"testEvent": "value"},
                                   {"id": "1", "source": "s", "account": "1", "time": "t", "region": "r"}])
def test_test_events_without_the_envelope_are_refused(event):
    with pytest.raises(InvalidEvent, match=r"^Parameter Event is not valid\.$"):
        validate_test_event(event)


def test_a_test_event_with_the_envelope_but_no_resources_is_accepted():
    validate_test_event({"id": "1", "source": "s", "account": "1", "time": "t", "region": "r",
                         "detail-type": "d"})

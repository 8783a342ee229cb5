"""Pattern errors name where AWS's parser stood, as recorded against AWS (EventBridge PutRule /
TestEventPattern and SNS filter policies, in LocalStack's AWS-validated snapshots).

Each case: the pattern, AWS's reason, the column AWS reported, and whether AWS repeated the position
(it does for errors inside an anything-but list).
"""

from __future__ import annotations

import pytest

from eventyard.patterns import InvalidPattern, compile_event_pattern, compile_filter_policy

EVENTBRIDGE = [
    ('{"int": 42}',
     '"int" must be an object or an array', 11),
    ('{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}',
     'Unrecognized match type NUMERIC', 36),
    ('{"string": "my-value"}',
     '"string" must be an object or an array', 13),
    ('{"resources": []}',
     'Empty arrays are not allowed', 17),
    ('{"my_key": [{"EXISTS": true}]}',
     'Unrecognized match type EXISTS', 28),
    ('{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}',
     'Bad numeric range operator: >', 49),
    ('{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}',
     'Value of < must be numeric', 50),
    ('{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}',
     'Consecutive wildcard characters at pos 26', 72),
    ('{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}',
     'equals-ignore-case match pattern must be a string', 42),
    ('{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}',
     'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.', 66),
    ('{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}',
     'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.', 67, True),
    ('{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}',
     'equals-ignore-case match pattern must be a string', 42),
    ('this is valid json but not a dict',
     "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", 5),
    ("{'bad': 'quotation'}",
     "Unexpected character (''' (code 39)): was expecting double-quote to start field name", 2),
    ('{"not": closed mark"',
     "Unrecognized token 'closed': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", 15),
    ('["not", "a", "dict", "but valid json"]',
     'Filter is not an object', 2),
    ('{"EventBusArn": [{"wildcard": 123}]}',
     'wildcard match pattern must be a string', 34),
    ('{"EventBusArn": [{"wildcard": ["arn:<partition>:events:<region>:**:event-bus/*"]}]}',
     'wildcard match pattern must be a string', 32),
    ('{"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}}',
     'wildcard match pattern must be a string', 57, True),
    ('{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}',
     'wildcard match pattern must be a string', 59),
    ('{"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}}',
     'prefix/suffix match pattern must be a string', 58, True),
    ('{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}',
     'prefix/suffix match pattern must be a string', 57),
    ('{"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}}',
     'prefix/suffix match pattern must be a string', 55, True),
    ('{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}',
     'prefix/suffix match pattern must be a string', 54),
    ('{"time": [{"prefix": ["2022-07-13"]}]}',
     'prefix match pattern must be a string', 23),
    ('{"time": [{"prefix": 123}]}',
     'prefix match pattern must be a string', 25),
    ('{"FileName": [{"suffix": 123}]}',
     'suffix match pattern must be a string', 29),
    ('{"FileName": [{"suffix": [".png"]}]}',
     'suffix match pattern must be a string', 27),
    ('{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}',
     'Value of anything-but must be an array or single string/number value.', 55),
    ('{"detail": {"FileName": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}}',
     'Value of anything-but must be an array or single string/number value.', 55),
    ('{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}',
     'prefix match pattern must be a string', 43),
    ('{"detail": {"FileName": [{"anything-but": {"prefix": ""}}]}}',
     'Null prefix/suffix not allowed', 56),
    ('{"detail": {"FileName": [{"anything-but": {"suffix": ""}}]}}',
     'Null prefix/suffix not allowed', 56),
    ('{"detail": {"c-count": [{"numeric": 10}]}}',
     'Value of numeric must be an array.', 39),
    ('{"detail": {"state": [{"anything-but": null}]}}',
     'Value of anything-but must be an array or single string/number value.', 44),
    ('{"detail": {"state": [{"anything-but": ["stopped", null]}]}}',
     'Inside anything but list, start|null|boolean is not supported.', 56, True),
    ('{"detail": {"FileName": [{"anything-but": {"suffix": [null, ".txt"]}}]}}',
     'prefix/suffix match pattern must be a string', 59, True),
]

SNS = [
    ('{"key":[["value"]]}',
     'Match value must be String, number, true, false, or null', 10),
    ('{"key":[{"wrong-operator":true}]}',
     'Unrecognized match type wrong-operator', 31),
    ('{"key":[{"suffix":"value","prefix":"value2"}]}',
     'Only one key allowed in match expression', 37),
    ('{"key":[]}',
     'Empty arrays are not allowed', 10),
    ('{"key":[{"suffix":100}]}',
     'suffix match pattern must be a string', 22),
    ('{"key":[{"suffix":null}]}',
     'suffix match pattern must be a string', 23),
    ('{"key":{"suffix":"value"}}',
     '"suffix" must be an object or an array', 19),
    ('{"key":[{"suffix":[]}]}',
     'suffix match pattern must be a string', 20),
    ('{"key":[{"suffix":["test","test2"]}]}',
     'suffix match pattern must be a string', 20),
    ('{"key":{"suffix":"value","prefix":"value"}}',
     '"suffix" must be an object or an array', 19),
    ('{"key":{"not-an-operator":"value"}}',
     '"not-an-operator" must be an object or an array', 28),
    ('{"key":[{"cidr":["bad-filter"]}]}',
     'prefix match pattern must be a string', 18),
    ('{"key":[{"numeric":[]}]}',
     'Invalid member in numeric match: ]', 22),
    ('{"key":[{"numeric":["operator"]}]}',
     'Unrecognized numeric range operator: operator', 32),
    ('{"key":[{"numeric":[1,"<="]}]}',
     'Invalid member in numeric match: 1', 22),
    ('{"key":[{"numeric":["=","000"]}]}',
     'Value of equals must be numeric', 26),
    ('{"key":[{"numeric":[">="]}]}',
     'Value of >= must be numeric', 26),
    ('{"key":[{"numeric":["<",100,">",10]}]}',
     'Too many elements in numeric expression', 30),
    ('{"key":[{"numeric":[">=",1,">",2]}]}',
     'Bad numeric range operator: >', 31),
    ('{"key":[{"numeric":[">",3,"<",1]}]}',
     'Bottom must be less than top', 33),
    ('{"key":[{"numeric":[">",20,"<="]}]}',
     'Value of <= must be numeric', 33),
    ('{"key":[{"numeric":[">",20,30]}]}',
     'Bad value in numeric range: 30', 30),
    ('{"key":[{"numeric":[">",20,"test"]}]}',
     'Bad numeric range operator: test', 34),
    ('{"key":[{"numeric":[">","20","<","30"]}]}',
     'Value of > must be numeric', 26),
    ('{"key":[{"numeric":[">",20,"<","30"]}]}',
     'Value of < must be numeric', 33),
    ('{"key":[{"numeric":[">",20,"<",30,"<",50]}]}',
     'Too many terms in numeric range expression', 36),
    ('{"key":[{"exists":null}]}',
     'exists match pattern must be either true or false.', 23),
    ('{"key":[{"exists":"no"}]}',
     'exists match pattern must be either true or false.', 20),
    ('{"key_a":"value_one"}',
     '"key_a" must be an object or an array', 11),
    ('{"key":[{"anything-but":{"wrong-operator":null}}]}',
     'Unsupported anything-but pattern: wrong-operator', 47),
    ('{"key":[{"anything-but":{"suffix":"test"}}]}',
     'Unsupported anything-but pattern: suffix', 36),
    ('{"key":[{"anything-but":{"exists":false}}]}',
     'Unsupported anything-but pattern: exists', 40),
    ('{"key":[{"anything-but":{"prefix":false}}]}',
     'prefix match pattern must be a string', 40),
]


def _located(source: str, reason: str, column: int, twice: bool = False) -> str:
    return reason + f'\n at [Source: (String)"{source}"; line: 1, column: {column}]' * (2 if twice else 1)


@pytest.mark.parametrize("case", EVENTBRIDGE, ids=lambda case: case[0][:40])
def test_eventbridge_pattern_errors_carry_the_parser_position(case: tuple) -> None:
    pattern = case[0]
    with pytest.raises(InvalidPattern) as caught:
        compile_event_pattern(pattern)
    reason = _located(pattern, *case[1:])
    assert caught.value.reason == reason
    assert caught.value.full_message == f"Event pattern is not valid. Reason: {reason}"


@pytest.mark.parametrize("case", SNS, ids=lambda case: case[0][:40])
def test_sns_filter_policy_errors_carry_the_parser_position(case: tuple) -> None:
    with pytest.raises(InvalidPattern) as caught:
        compile_filter_policy(case[0])
    assert caught.value.reason == _located(case[0], *case[1:])


def test_sns_quotes_the_policy_without_the_clients_spaces() -> None:
    with pytest.raises(InvalidPattern) as caught:
        compile_filter_policy('{"key": [{"suffix": 100}]}')
    assert caught.value.reason == _located('{"key":[{"suffix":100}]}', "suffix match pattern must be a string", 22)


def test_an_sns_policy_that_is_not_json_names_no_source() -> None:
    with pytest.raises(InvalidPattern) as caught:
        compile_filter_policy("{invalid-json}")
    assert caught.value.full_message == (
        "Invalid parameter: FilterPolicy: failed to parse JSON. Unexpected character ('i' (code 105)): was "
        "expecting double-quote to start field name\n at [Source: REDACTED (`StreamReadFeature."
        "INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]")


def test_a_long_source_is_quoted_up_to_500_characters() -> None:
    pattern = '{"a": [' + ", ".join(['"x"'] * 200) + ', {"prefix": 1}]}'
    with pytest.raises(InvalidPattern) as caught:
        compile_event_pattern(pattern)
    assert caught.value.location.startswith('\n at [Source: (String)"' + pattern[:500] + '"[truncated ')
    assert caught.value.location.endswith(f" chars]; line: 1, column: {len(pattern) - 2}]")


def test_positions_count_lines_and_columns() -> None:
    with pytest.raises(InvalidPattern) as caught:
        compile_event_pattern('{\n  "a": 42\n}')
    assert caught.value.location.endswith("line: 2, column: 10]")

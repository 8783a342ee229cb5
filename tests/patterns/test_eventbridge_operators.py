"""EventBridge operators, from the examples on AWS's "event patterns" and "content filtering"
pages: each operator matches what the docs say and nothing else."""

from __future__ import annotations

import pytest

from eventyard.patterns import compile_event_pattern

EC2_EVENT = {
    "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
    "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}


def matches(pattern: str, event: dict) -> bool:
    return compile_event_pattern(pattern).matches(event)


def test_the_documented_ec2_termination_pattern_matches_its_event():
    pattern = ('{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],'
               ' "detail": {"state": ["terminated"]}}')
    assert matches(pattern, EC2_EVENT)
    assert not matches(pattern, {**EC2_EVENT, "detail": {"state": "running"}})


CASES = [
    # (pattern, event, expected)
    ('{"time": [{"prefix": "2017-10-02"}]}', {"time": "2017-10-02T18:43:48Z"}, True),
    ('{"time": [{"prefix": "2017-10-02"}]}', {"time": "2017-10-03T18:43:48Z"}, False),
    ('{"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}',
     {"detail": {"service": "eventbridge"}}, True),
    ('{"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}',
     {"detail": {"service": "sns"}}, False),
    ('{"FileName": [{"suffix": ".png"}]}', {"FileName": "image.png"}, True),
    ('{"FileName": [{"suffix": ".png"}]}', {"FileName": "image.PNG"}, False),
    ('{"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}',
     {"detail": {"FileName": "image.PNG"}}, True),
    ('{"detail": {"state": [{"anything-but": "initializing"}]}}', {"detail": {"state": "running"}}, True),
    ('{"detail": {"state": [{"anything-but": "initializing"}]}}', {"detail": {"state": "initializing"}}, False),
    ('{"detail": {"x-limit": [{"anything-but": 123}]}}', {"detail": {"x-limit": 123.0}}, False),
    ('{"detail": {"x-limit": [{"anything-but": 123}]}}', {"detail": {"x-limit": "123"}}, True),
    ('{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}',
     {"detail": {"state": "stopped"}}, False),
    ('{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}', {"detail": {"state": "initializing"}}, False),
    ('{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}', {"detail": {"state": "running"}}, True),
    ('{"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}}', {"detail": {"FileName": "a.txt"}}, False),
    ('{"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}',
     {"detail": {"FilePath": "/usr/lib/x"}}, False),
    ('{"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}',
     {"detail": {"FilePath": "/usr/bin/x"}}, True),
    ('{"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}}',
     {"detail": {"state": "STOPPED"}}, False),
    ('{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}', {"detail": {"c-count": 5}}, True),
    ('{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}', {"detail": {"c-count": 0}}, False),
    ('{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}', {"detail": {"c-count": "3"}}, False),
    ('{"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}', {"detail": {"x-limit": 301.8}}, True),
    ('{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}',
     {"detail": {"sourceIPAddress": "10.0.0.255"}}, True),
    ('{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}',
     {"detail": {"sourceIPAddress": "10.0.1.0"}}, False),
    ('{"detail": {"sourceIPAddress": [{"cidr": "2001:db8::/64"}]}}',
     {"detail": {"sourceIPAddress": "2001:db8::ff00:42:8329"}}, True),
    ('{"detail": {"state": [{"exists": true}]}}', {"detail": {"state": None}}, True),
    ('{"detail": {"state": [{"exists": true}]}}', {"detail": {"other": 1}}, False),
    ('{"detail": {"state": [{"exists": false}]}}', {"detail": {"other": 1}}, True),
    ('{"detail": {"state": [{"exists": false}]}}', {"detail": {"state": "x"}}, False),
    ('{"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}', EC2_EVENT, True),
    ('{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}',
     {"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"}, True),
    ('{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}',
     {"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/myEventBus"}, False),
    ('{"a": [{"wildcard": "x\\\\*y"}]}', {"a": "x*y"}, True),
    ('{"a": [{"wildcard": "x\\\\*y"}]}', {"a": "xzy"}, False),
    ('{"source": ["aws.ec2"], "$or": [{"detail": {"state": ["running"]}}, {"region": ["us-west-1"]}]}',
     EC2_EVENT, True),
    ('{"$or": [{"detail": {"state": ["running"]}}, {"region": ["eu-west-1"]}]}', EC2_EVENT, False),
    ('{"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0", "x"]}', EC2_EVENT, True),
    ('{"number": [300]}', {"number": 300.0}, True),
    ('{"flag": [false]}', {"flag": False}, True),
    ('{"flag": [false]}', {"flag": 0}, False),
    ('{"detail": {"responseElements": [null]}}', {"detail": {"responseElements": None}}, True),
    ('{"detail": {"responseElements": [null]}}', {"detail": {"responseElements": "null"}}, False),
    ('{"detail": {"state.status": ["running"]}}', {"detail": {"state": {"status": "running"}}}, True),
]


@pytest.mark.parametrize("pattern, event, expected", CASES)
def test_documented_operators_match_exactly_what_the_docs_describe(pattern, event, expected):
    assert matches(pattern, event) is expected


def test_conditions_inside_one_array_element_must_hold_in_the_same_element():
    pattern = '{"metrics": {"metricName": ["CPUUtilization"], "namespace": ["AWS/ES"]}}'
    same = {"metrics": [{"metricName": "CPUUtilization", "namespace": "AWS/ES"}]}
    split = {"metrics": [{"metricName": "CPUUtilization", "namespace": "AWS/EC2"},
                         {"metricName": "RequestCount", "namespace": "AWS/ES"}]}
    assert matches(pattern, same)
    assert not matches(pattern, split)


def test_event_arrays_match_when_any_element_matches():
    assert matches('{"tags": ["b"]}', {"tags": ["a", "b"]})
    assert not matches('{"tags": ["c"]}', {"tags": ["a", "b"]})
    assert not matches('{"tags": [{"exists": true}]}', {"tags": []})

"""The Machine: many rules, one pass; incremental add/remove; readers never see a half write."""

from __future__ import annotations

import threading

from eventyard.patterns import Machine, compile_event_pattern

EVENT = {"source": "aws.ec2", "detail-type": "x", "detail": {"state": "running", "n": 5}}


def test_match_returns_every_matching_rule_id():
    m = Machine()
    m.add("a", compile_event_pattern('{"source": ["aws.ec2"]}'))
    m.add("b", compile_event_pattern('{"detail": {"n": [{"numeric": [">", 1]}]}}'))
    m.add("c", compile_event_pattern('{"source": ["aws.s3"]}'))
    assert m.match(EVENT) == {"a", "b"}


def test_rules_sharing_conditions_are_told_apart():
    m = Machine()
    m.add(1, compile_event_pattern('{"source": ["aws.ec2"], "detail": {"state": ["running"]}}'))
    m.add(2, compile_event_pattern('{"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}'))
    m.add(3, compile_event_pattern('{"source": ["aws.ec2"]}'))
    assert m.match(EVENT) == {1, 3}


def test_adding_an_existing_id_replaces_its_pattern():
    m = Machine()
    m.add("r", compile_event_pattern('{"source": ["aws.s3"]}'))
    m.add("r", compile_event_pattern('{"source": ["aws.ec2"]}'))
    assert m.match(EVENT) == {"r"}
    assert m.match({"source": "aws.s3"}) == set()


def test_removing_a_rule_leaves_rules_that_shared_its_nodes_intact():
    m = Machine()
    m.add(1, compile_event_pattern('{"source": ["aws.ec2"], "detail": {"state": ["running"]}}'))
    m.add(2, compile_event_pattern('{"source": ["aws.ec2"], "detail": {"state": ["running"]}}'))
    m.add(3, compile_event_pattern('{"source": [{"prefix": "aws."}]}'))
    m.remove(1)
    assert m.match(EVENT) == {2, 3}
    m.remove(2)
    m.remove(3)
    m.remove(99)
    assert m.match(EVENT) == set()
    assert len(m) == 0


def test_exists_false_rules_match_through_the_machine():
    m = Machine()
    m.add("absent", compile_event_pattern('{"detail": {"gone": [{"exists": false}]}}'))
    m.add("or", compile_event_pattern('{"detail": {"state": [{"anything-but": "x"}, {"exists": false}]}}'))
    assert m.match(EVENT) == {"absent", "or"}
    assert m.match({"detail": {"gone": 1, "state": "x"}}) == set()


def test_readers_see_consistent_snapshots_while_a_writer_adds_and_removes():
    m = Machine()
    m.add("stable", compile_event_pattern('{"source": ["aws.ec2"]}'))
    stop = threading.Event()
    problems: list[object] = []

    def read() -> None:
        while not stop.is_set():
            got = m.match(EVENT)
            if "stable" not in got:
                problems.append(got)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    for i in range(300):
        m.add(i, compile_event_pattern(f'{{"source": ["aws.ec2"], "detail": {{"n": [{i % 10}]}}}}'))
        if i % 3 == 0:
            m.remove(i)
    stop.set()
    for t in readers:
        t.join()
    assert problems == []
    assert m.match(EVENT) == {"stable"} | {i for i in range(300) if i % 10 == 5 and i % 3}

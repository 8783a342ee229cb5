"""Intrinsic functions and JSONPath on their own."""

from __future__ import annotations

from typing import Any

import pytest

from eventyard.asl import intrinsics, jsonpath
from eventyard.asl.errors import PathNotFound, StatesError

DOC = {"a": [1, 2, 3, 4], "s": "a,b;c", "o": {"k": 1}, "n": 2.5}


def resolve(path: str) -> Any:
    return jsonpath.select(path, DOC)


@pytest.mark.parametrize("call, expected", [
    ("States.Format('x={} y={}', $.o.k, 'lit')", "x=1 y=lit"),
    ("States.Format('{} \\\\{\\\\}', $.o)", "{k=1} {}"),
    ("States.StringToJson('{\"a\":1}')", {"a": 1}),
    ("States.JsonToString($.o)", '{"k":1}'),
    ("States.Array(1, 'two', $.o.k)", [1, "two", 1]),
    ("States.ArrayPartition($.a, 3)", [[1, 2, 3], [4]]),
    ("States.ArrayContains($.a, 3)", True),
    ("States.ArrayRange(1, 9, 4)", [1, 5, 9]),
    ("States.ArrayGetItem($.a, 1)", 2),
    ("States.ArrayLength($.a)", 4),
    ("States.ArrayUnique(States.Array(1, 1, 2))", [1, 2]),
    ("States.Base64Encode('hi')", "aGk="),
    ("States.Base64Decode('aGk=')", "hi"),
    ("States.Hash('hi', 'SHA-256')", "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"),
    ("States.JsonMerge($.o, States.StringToJson('{\"z\":2}'), false)", {"k": 1, "z": 2}),
    ("States.MathAdd($.n, 1)", 4),
    ("States.StringSplit($.s, ',;')", ["a", "b", "c"]),
])
def test_intrinsic_functions(call: str, expected: Any) -> None:
    assert intrinsics.evaluate(call, resolve) == expected


def test_random_and_uuid_have_the_right_shape() -> None:
    value = intrinsics.evaluate("States.MathRandom(1, 10)", resolve)
    assert 1 <= value <= 10
    assert len(intrinsics.evaluate("States.UUID()", resolve)) == 36


def test_bad_arguments_are_runtime_errors() -> None:
    with pytest.raises(StatesError):
        intrinsics.evaluate("States.ArrayGetItem($.a, 10)", resolve)
    with pytest.raises(StatesError):
        intrinsics.evaluate("States.Hash('x', 'CRC32')", resolve)


def test_definite_and_indefinite_paths() -> None:
    assert jsonpath.select("$.a[1:3]", DOC) == [2, 3]
    assert jsonpath.select("$['o']['k']", DOC) == 1
    assert jsonpath.select("$..k", DOC) == [1]
    with pytest.raises(PathNotFound):
        jsonpath.select("$.missing", DOC)


def test_result_path_creates_missing_objects() -> None:
    assert jsonpath.assign({"x": 1}, "$.a.b", 2) == {"x": 1, "a": {"b": 2}}
    assert jsonpath.assign({"x": 1}, "$", 2) == 2

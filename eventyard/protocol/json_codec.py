"""JSON documents <-> Python values, typed by a botocore shape, with each shape compiled once.

Every request walks its input and output shapes. Reading a shape's type, members and traits from
botocore's model again for every value dominated small requests, so each shape becomes a closure the
first time it is seen (cached by the shape object, as validation.py does) and requests only run
closures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from botocore.model import Shape

from eventyard.protocol.values import (
    WireTypeError,
    decode_base64,
    encode_base64,
    epoch_seconds,
    iso8601,
    parse_timestamp,
    rfc822,
)

Convert = Callable[[Any], Any]


def read_json(shape: Shape, value: Any) -> Any:
    """JSON document -> Python values typed by the shape (bytes for blobs, floats for timestamps)."""
    if value is None:
        return None
    return _reader(shape)(value)


def write_json(shape: Shape, value: Any) -> Any:
    """Python values -> the JSON document a client's parser expects for the shape."""
    if value is None:
        return None
    return _writer(shape)(value)


_readers: dict[int, tuple[Shape, Convert]] = {}
_writers: dict[int, tuple[Shape, Convert]] = {}


def _cached(cache: dict[int, tuple[Shape, Convert]], shape: Shape, compile_: Callable[[Shape], Convert]) -> Convert:
    found = cache.get(id(shape))
    if found is not None and found[0] is shape:
        return found[1]
    # A recursive shape meets itself while it compiles: it gets a forwarder to the finished converter.
    finished: list[Convert] = []
    cache[id(shape)] = (shape, lambda value: finished[0](value))
    convert = compile_(shape)
    finished.append(convert)
    cache[id(shape)] = (shape, convert)  # the shape is kept, so its id stays its own
    return convert


def _reader(shape: Shape) -> Convert:
    return _cached(_readers, shape, _compile_reader)


def _writer(shape: Shape) -> Convert:
    return _cached(_writers, shape, _compile_writer)


# -- reading ------------------------------------------------------------------------------------------
def _compile_reader(shape: Shape) -> Convert:
    kind = shape.type_name
    name = shape.name
    if kind == "structure":
        return _structure_reader(shape)
    if kind == "list":
        item = _reader(shape.member)

        def read_list(value: Any) -> Any:
            if not isinstance(value, list):
                raise WireTypeError(f"Expected a list for {name}")
            return [None if v is None else item(v) for v in value]

        return read_list
    if kind == "map":
        key, item = _reader(shape.key), _reader(shape.value)

        def read_map(value: Any) -> Any:
            if not isinstance(value, dict):
                raise WireTypeError(f"Expected a map for {name}")
            return {key(k): None if v is None else item(v) for k, v in value.items()}

        return read_map
    return _scalar_reader(kind, name)


def _structure_reader(shape: Shape) -> Convert:
    name = shape.name
    members = shape.members
    # JSON key -> member name, for members whose key is their `locationName` (rest-json's `tags`).
    renamed = {m.serialization["name"]: n for n, m in members.items()
               if m.serialization.get("name", n) != n and "location" not in m.serialization}
    readers = {n: _reader(m) for n, m in members.items()}

    def read_structure(value: Any) -> Any:
        if not isinstance(value, dict):
            raise WireTypeError(f"Expected an object for {name}")
        out = {}
        for key, item in value.items():
            if renamed:
                key = renamed.get(key, key)
            reader = readers.get(key)
            if reader is not None and item is not None:
                out[key] = reader(item)
        return out

    return read_structure


def _scalar_reader(kind: str, name: str) -> Convert:
    if kind == "string":
        def read_string(value: Any) -> Any:
            if not isinstance(value, str):
                raise WireTypeError(f"STRING_VALUE can not be converted to {name}")
            return value

        return read_string
    if kind == "boolean":
        def read_boolean(value: Any) -> Any:
            if not isinstance(value, bool):
                raise WireTypeError(f"Expected a boolean for {name}")
            return value

        return read_boolean
    if kind in {"integer", "long"}:
        def read_integer(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not value.is_integer()
            ):
                raise WireTypeError(f"Expected an integer for {name}")
            return int(value)

        return read_integer
    if kind in {"float", "double"}:
        def read_number(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise WireTypeError(f"Expected a number for {name}")
            return float(value)

        return read_number
    if kind == "blob":
        def read_blob(value: Any) -> Any:
            if not isinstance(value, str):
                raise WireTypeError(f"Expected base64 text for {name}")
            return decode_base64(value)

        return read_blob
    if kind == "timestamp":
        return parse_timestamp
    return _same  # document types pass through


def _same(value: Any) -> Any:
    return value


# -- writing ------------------------------------------------------------------------------------------
def _compile_writer(shape: Shape) -> Convert:
    kind = shape.type_name
    if kind == "structure":
        members = {n: (m.serialization.get("name", n), _writer(m)) for n, m in shape.members.items()}

        def write_structure(value: Any) -> Any:
            out = {}
            for key, item in value.items():
                member = members.get(key)
                if member is not None and item is not None:
                    out[member[0]] = member[1](item)
            return out

        return write_structure
    if kind == "list":
        item = _writer(shape.member)
        return lambda value: [None if v is None else item(v) for v in value]
    if kind == "map":
        entry = _writer(shape.value)
        return lambda value: {k: None if v is None else entry(v) for k, v in value.items()}
    if kind == "blob":
        return encode_base64
    if kind == "timestamp":
        return _timestamp_writer(shape.serialization.get("timestampFormat"))
    if kind in {"float", "double"}:
        return _write_number
    return _same


def _timestamp_writer(fmt: str | None) -> Convert:
    # A shape's timestampFormat trait wins over the protocol's epoch seconds (Schemas' iso8601
    # members): strict clients such as the JS SDK v3 refuse a number there.
    if fmt == "iso8601":
        return iso8601
    if fmt == "rfc822":
        return rfc822

    def write_epoch(value: Any) -> Any:
        seconds = epoch_seconds(value)
        return int(seconds) if float(seconds).is_integer() else round(seconds, 3)

    return write_epoch


def _write_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value

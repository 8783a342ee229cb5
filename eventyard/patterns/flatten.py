"""Flatten a parsed JSON event into leaves: path -> [(value, array membership), ...].

Paths join object keys with "." (so ``{"a.b": 1}`` and ``{"a": {"b": 1}}`` both give ``a.b``,
as EventBridge does). Array indices are not part of the path: a leaf inside an array stands for
"any of". To keep conditions on one array element together (EventBridge's array consistency),
each leaf remembers, for every array element it sits in that is an object or an array,
(array id, index). Scalars directly inside an array add no membership: they are alternatives of
one field.
"""

from __future__ import annotations

from typing import Any

Membership = tuple[tuple[int, int], ...]
Leaves = dict[str, list[tuple[Any, Membership]]]

NO_MEMBERSHIP: Membership = ()


def flatten(event: Any) -> Leaves:
    leaves: Leaves = {}
    if isinstance(event, dict):
        _object(event, "", NO_MEMBERSHIP, leaves, [0])
    return leaves


def _object(obj: dict[str, Any], prefix: str, member: Membership, leaves: Leaves, ids: list[int]) -> None:
    for key, value in obj.items():
        path = prefix + key
        if isinstance(value, dict):
            _object(value, path + ".", member, leaves, ids)
        elif isinstance(value, list):
            _array(value, path, member, leaves, ids)
        else:
            leaves.setdefault(path, []).append((value, member))


def _array(items: list[Any], path: str, member: Membership, leaves: Leaves, ids: list[int]) -> None:
    ids[0] += 1
    array_id = ids[0]
    for index, item in enumerate(items):
        if isinstance(item, dict):
            _object(item, path + ".", member + ((array_id, index),), leaves, ids)
        elif isinstance(item, list):
            _array(item, path, member + ((array_id, index),), leaves, ids)
        else:
            leaves.setdefault(path, []).append((item, member))


def merge(acc: Membership, new: Membership) -> Membership | None:
    """Combine two memberships, or None when they put one array at two different indices."""
    if not new:
        return acc
    if not acc:
        return new
    seen = dict(acc)
    for array_id, index in new:
        held = seen.get(array_id)
        if held is None:
            seen[array_id] = index
        elif held != index:
            return None
    if len(seen) == len(acc):
        return acc
    return tuple(sorted(seen.items()))

"""The reference matcher: one pattern at a time, written to be obviously right.

It is the oracle the compiled Machine is tested against and is not used on hot paths.
"""

from __future__ import annotations

from typing import Any

from .flatten import NO_MEMBERSHIP, Leaves, Membership, flatten, merge
from .model import Branch, Pattern


def reference_matches(pattern: Pattern, event: Any) -> bool:
    leaves = flatten(event)
    return any(_branch_matches(branch, 0, leaves, NO_MEMBERSHIP) for branch in pattern.branches)


def _branch_matches(branch: Branch, i: int, leaves: Leaves, acc: Membership) -> bool:
    """Depth-first search for one leaf per condition, all in consistent array elements."""
    if i == len(branch):
        return True
    condition = branch[i]
    found = leaves.get(condition.path, [])
    # exists:false holds when no leaf at the path could sit beside the leaves chosen so far
    absent = all(merge(acc, member) is None for _, member in found)
    if condition.allow_absent and absent and _branch_matches(branch, i + 1, leaves, acc):
        return True
    for value, member in found:
        if not any(m.test(value) for m in condition.matchers):
            continue
        merged = merge(acc, member)
        if merged is not None and _branch_matches(branch, i + 1, leaves, merged):
            return True
    return False


def reference_match_all(patterns: dict[Any, Pattern], event: Any) -> set[Any]:
    """Ids of every matching pattern, checked one by one (the Machine's oracle)."""
    return {rule_id for rule_id, p in patterns.items() if reference_matches(p, event)}

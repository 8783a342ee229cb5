"""Machine: many compiled patterns merged into one structure, matched in one pass.

Each branch of a pattern is a chain of conditions (exact values first, then by field path). Chains share nodes
while their conditions are identical, so rules that start alike are walked once. A node keeps,
per field path, a ``FieldIndex`` that maps an event value to the next nodes, plus the nodes
reached when a path is absent (``exists: false``) and the rule ids that end there.

Matching walks states (node, array membership) over the flattened event; a state only moves on
through a leaf whose array membership agrees with the leaves already used (array consistency).

Writers never mutate what a reader can see: ``add``/``remove`` copy the nodes and indexes on the
changed path and publish a new root with one reference assignment (atomic in CPython); a lock
serialises writers only.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from .conditions import Branch, Condition
from .flatten import NO_MEMBERSHIP, flatten, merge
from .index import FieldIndex

if TYPE_CHECKING:
    from .model import Pattern


class _Node:
    __slots__ = ("children", "fields", "absent", "rules", "weight")

    def __init__(self) -> None:
        self.children: dict[Condition, _Node] = {}  # writer's view: shared by identical conditions
        self.fields: dict[str, FieldIndex] = {}  # reader's view: path -> value index
        self.absent: dict[str, tuple[_Node, ...]] = {}  # path -> nodes reached when path is missing
        self.rules: frozenset[Hashable] = frozenset()
        self.weight = 0  # branches passing through or ending here

    def copy(self) -> _Node:
        new = _Node()
        new.children = dict(self.children)
        new.fields = dict(self.fields)
        new.absent = dict(self.absent)
        new.rules = self.rules
        new.weight = self.weight
        return new


class Machine:
    """Many patterns, one matcher. ``match`` returns the ids of all matching patterns."""

    def __init__(self) -> None:
        self._root = _Node()
        self._patterns: dict[Hashable, Pattern] = {}
        self._write = threading.Lock()

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, rule_id: Hashable) -> bool:
        return rule_id in self._patterns

    # ------------------------------------------------------------ writers
    def add(self, rule_id: Hashable, pattern: Pattern) -> None:
        """Add a pattern under ``rule_id``; an existing pattern with that id is replaced."""
        with self._write:
            root = self._root
            old = self._patterns.get(rule_id)
            if old is not None:
                for branch in old.branches:
                    root = _remove(root, branch, 0, rule_id) or _Node()
            for branch in pattern.branches:
                root = _add(root, branch, 0, rule_id)
            patterns = dict(self._patterns)
            patterns[rule_id] = pattern
            self._root, self._patterns = root, patterns

    def remove(self, rule_id: Hashable) -> None:
        """Forget ``rule_id``; unknown ids are ignored."""
        with self._write:
            old = self._patterns.get(rule_id)
            if old is None:
                return
            root = self._root
            for branch in old.branches:
                root = _remove(root, branch, 0, rule_id) or _Node()
            patterns = dict(self._patterns)
            del patterns[rule_id]
            self._root, self._patterns = root, patterns

    # ------------------------------------------------------------ reader
    def match(self, event: Any) -> set[Hashable]:
        root = self._root  # one snapshot for the whole pass
        leaves = flatten(event)
        matched: set[Hashable] = set()
        seen: set[tuple[int, Any]] = set()
        todo: list[tuple[_Node, Any]] = [(root, NO_MEMBERSHIP)]
        while todo:
            node, member = todo.pop()
            if node.rules:
                matched |= node.rules
            for path, nodes in node.absent.items():
                # absent = no leaf at the path consistent with the leaves used so far
                if path not in leaves or all(merge(member, m) is None for _, m in leaves[path]):
                    for nxt in nodes:
                        key = (id(nxt), member)
                        if key not in seen:
                            seen.add(key)
                            todo.append((nxt, member))
            fields = node.fields
            if not fields:
                continue
            for path in fields if len(fields) <= len(leaves) else leaves:
                found = leaves.get(path)
                index = fields.get(path)
                if found is None or index is None:
                    continue
                for value, leaf_member in found:
                    reached: list[_Node] = []
                    index.children(value, reached)
                    if not reached:
                        continue
                    merged = merge(member, leaf_member) if leaf_member else member
                    if merged is None:
                        continue
                    for nxt in reached:
                        key = (id(nxt), merged)
                        if key not in seen:
                            seen.add(key)
                            todo.append((nxt, merged))
        return matched


def _add(node: _Node, branch: Branch, i: int, rule_id: Hashable) -> _Node:
    """Copy of ``node`` with the rest of ``branch`` (from condition i) leading to ``rule_id``."""
    new = node.copy()
    new.weight += 1
    if i == len(branch):
        new.rules = node.rules | {rule_id}
        return new
    condition = branch[i]
    old_child = node.children.get(condition)
    child = _add(old_child if old_child is not None else _Node(), branch, i + 1, rule_id)
    new.children[condition] = child
    _relink(new, condition, old_child, child)
    return new


def _remove(node: _Node, branch: Branch, i: int, rule_id: Hashable) -> _Node | None:
    """Copy of ``node`` without one branch of ``rule_id``; None when nothing is left in it."""
    new = node.copy()
    new.weight -= 1
    if i == len(branch):
        new.rules = node.rules - {rule_id}
    else:
        condition = branch[i]
        old_child = node.children.get(condition)
        if old_child is None:  # not present: nothing to undo
            new.weight += 1
            return new
        child = _remove(old_child, branch, i + 1, rule_id)
        if child is None:
            del new.children[condition]
        else:
            new.children[condition] = child
        _relink(new, condition, old_child, child)
    return new if new.weight > 0 else None


def _relink(node: _Node, condition: Condition, old: _Node | None, new: _Node | None) -> None:
    """Point ``node``'s read-side tables for ``condition`` from ``old`` to ``new`` (copying them)."""
    if condition.matchers:
        index = node.fields.get(condition.path)
        index = index.clone() if index is not None else FieldIndex()
        for matcher in condition.matchers:
            if old is not None and new is not None:
                index.relink(matcher, old, new)
            elif old is not None:
                index.unlink(matcher, old)
            elif new is not None:
                index.link(matcher, new)
        if index.empty():
            node.fields.pop(condition.path, None)
        else:
            node.fields[condition.path] = index
    if condition.allow_absent:
        held = tuple(c for c in node.absent.get(condition.path, ()) if c is not old)
        if new is not None:
            held += (new,)
        if held:
            node.absent[condition.path] = held
        else:
            node.absent.pop(condition.path, None)

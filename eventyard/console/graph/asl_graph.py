"""A state machine's graph, read from its Amazon States Language definition.

Nodes are states (plus a start, an end, and a "join" where each Parallel or Map state's branches
meet again); edges are Next transitions, Choice rules and Default, Catch handlers and the entries
into Parallel branches and Map iterators. Retry policies are drawn on their state (a loop), not as
edges. States inside a Parallel branch or a Map iterator belong to a group, drawn around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

START = "__start__"
END = "__end__"


@dataclass
class Node:
    id: str  # unique in the graph: the state's name qualified by the groups it sits in
    name: str  # the state's name, as execution histories call it
    kind: str  # the ASL Type, or "start", "end", "join"
    group: str | None = None  # id of the innermost Parallel branch / Map iterator holding it
    retries: list[str] = field(default_factory=list)  # "States.ALL ×3" per Retry rule
    comment: str = ""


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # "next", "choice", "default", "catch", "branch", "end"
    label: str = ""


@dataclass
class Group:
    id: str
    label: str
    parent: str | None


@dataclass
class StateGraph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)


def build_graph(definition: dict[str, Any]) -> StateGraph:
    graph = StateGraph()
    graph.nodes[START] = Node(START, "Start", "start")
    graph.nodes[END] = Node(END, "End", "end")
    _scope(graph, definition, prefix="", group=None, entry=START, exit_to=END)
    return graph


def _scope(graph: StateGraph, machine: dict[str, Any], prefix: str, group: str | None, entry: str,
           exit_to: str) -> None:
    """Add one States/StartAt scope: `entry` leads to its StartAt, its ends lead to `exit_to`."""
    states: dict[str, Any] = machine.get("States") or {}

    def node_id(name: str) -> str:
        return f"{prefix}{name}"

    for name, state in states.items():
        graph.nodes[node_id(name)] = Node(node_id(name), name, str(state.get("Type", "?")), group,
                                          _retries(state), str(state.get("Comment", "")))
    if machine.get("StartAt") in states:
        graph.edges.append(Edge(entry, node_id(machine["StartAt"]), "branch" if entry != START else "next"))
    for name, state in states.items():
        source = node_id(name)
        exits = _nested(graph, state, source, prefix, group)
        _transitions(graph, state, source, exits, node_id, exit_to, states)


def _nested(graph: StateGraph, state: dict[str, Any], source: str, prefix: str, group: str | None) -> str:
    """Parallel branches and Map iterators: their states, grouped; returns the node that leads on."""
    kind = state.get("Type")
    scopes: list[tuple[str, dict[str, Any]]] = []
    if kind == "Parallel":
        scopes = [(f"Branch {i + 1}", branch) for i, branch in enumerate(state.get("Branches") or [])]
    elif kind == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            scopes = [("Iterator" if "Iterator" in state else "Item processor", processor)]
    if not scopes:
        return source
    join = f"{source}/__join__"
    graph.nodes[join] = Node(join, f"end of {graph.nodes[source].name}", "join", group)
    for index, (label, scope) in enumerate(scopes):
        group_id = f"{source}/{index}"
        graph.groups[group_id] = Group(group_id, label, group)
        _scope(graph, scope, prefix=f"{group_id}/", group=group_id, entry=source, exit_to=join)
    return join


def _transitions(graph: StateGraph, state: dict[str, Any], source: str, leads_on: str, node_id: Any,
                 exit_to: str, states: dict[str, Any]) -> None:
    def to(name: Any) -> str | None:
        return node_id(name) if isinstance(name, str) and name in states else None

    kind = state.get("Type")
    if kind == "Choice":
        for index, rule in enumerate(state.get("Choices") or []):
            target = to(rule.get("Next"))
            if target:
                graph.edges.append(Edge(source, target, "choice", describe_choice(rule) or f"rule {index + 1}"))
        default = to(state.get("Default"))
        if default:
            graph.edges.append(Edge(source, default, "default", "default"))
    elif kind in {"Succeed", "Fail"} or state.get("End"):
        graph.edges.append(Edge(leads_on, exit_to, "end"))
    else:
        target = to(state.get("Next"))
        if target:
            graph.edges.append(Edge(leads_on, target, "next"))
    for catcher in state.get("Catch") or []:
        target = to(catcher.get("Next"))
        if target:
            graph.edges.append(Edge(source, target, "catch", "catch " + ", ".join(catcher.get("ErrorEquals") or [])))


def _retries(state: dict[str, Any]) -> list[str]:
    return [f"{', '.join(rule.get('ErrorEquals') or [])} ×{rule.get('MaxAttempts', 3)}" for rule in state.get("Retry") or []]


_COMPARISONS = {
    "StringEquals": "==", "NumericEquals": "==", "BooleanEquals": "==", "TimestampEquals": "==",
    "StringLessThan": "<", "NumericLessThan": "<", "TimestampLessThan": "<",
    "StringGreaterThan": ">", "NumericGreaterThan": ">", "TimestampGreaterThan": ">",
    "StringLessThanEquals": "<=", "NumericLessThanEquals": "<=", "TimestampLessThanEquals": "<=",
    "StringGreaterThanEquals": ">=", "NumericGreaterThanEquals": ">=", "TimestampGreaterThanEquals": ">=",
    "StringMatches": "matches", "IsPresent": "is present", "IsNull": "is null", "IsString": "is string",
    "IsNumeric": "is numeric", "IsBoolean": "is boolean", "IsTimestamp": "is timestamp",
}


def describe_choice(rule: dict[str, Any]) -> str:
    """A short reading of a Choice rule: `$.total > 100`, `not (...)`, `a and b`, or its JSONata."""
    if "Condition" in rule:
        return str(rule["Condition"]).strip("{% }")[:48]
    if "Not" in rule:
        return f"not ({describe_choice(rule['Not'])})"
    for combinator in ("And", "Or"):
        if combinator in rule:
            return f" {combinator.lower()} ".join(describe_choice(r) for r in rule[combinator])[:60]
    variable = rule.get("Variable", "")
    for key, value in rule.items():
        operator = key.removesuffix("Path")
        if operator in _COMPARISONS:
            shown = value if key.endswith("Path") else (f'"{value}"' if isinstance(value, str) else value)
            if operator.startswith("Is"):
                return f"{variable} {_COMPARISONS[operator]}" + ("" if value is True else " (false)")
            return f"{variable} {_COMPARISONS[operator]} {shown}"
    return ""

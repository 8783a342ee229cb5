"""State machine graphs from ASL definitions, their layout, and executions drawn on them."""

from __future__ import annotations

from typing import Any

from eventyard.console.graph.asl_graph import END, START, build_graph, describe_choice
from eventyard.console.graph.layout import lay_out
from eventyard.console.graph.overlay import overlay

EVERY_TYPE: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Route"},
        "Route": {"Type": "Choice", "Choices": [
            {"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Fan"},
            {"And": [{"Variable": "$.vip", "BooleanEquals": True}, {"Variable": "$.n", "IsPresent": True}],
             "Next": "Hold"}], "Default": "Work"},
        "Hold": {"Type": "Wait", "Seconds": 5, "Next": "Work"},
        "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done",
                 "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}],
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
        "Fan": {"Type": "Parallel", "Next": "Done", "Catch": [{"ErrorEquals": ["Oops"], "Next": "Failed"}],
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": True, "ItemProcessor": {
                        "StartAt": "Item", "States": {"Item": {"Type": "Task", "Resource": "arn:x", "End": True}}}}}},
                ]},
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "E"},
    },
}


def edges(definition: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.kind) for e in build_graph(definition).edges}


def test_every_state_type_becomes_a_node_with_its_type() -> None:
    graph = build_graph(EVERY_TYPE)
    kinds = {n.name: n.kind for n in graph.nodes.values() if n.kind not in {"start", "end", "join"}}
    assert kinds == {"Prepare": "Pass", "Route": "Choice", "Hold": "Wait", "Work": "Task", "Fan": "Parallel",
                     "A": "Pass", "Each": "Map", "Item": "Task", "Done": "Succeed", "Failed": "Fail"}


def test_choice_rules_default_catch_and_ends_become_edges() -> None:
    found = edges(EVERY_TYPE)
    assert {(START, "Prepare", "next"), ("Prepare", "Route", "next"), ("Route", "Fan", "choice"),
            ("Route", "Hold", "choice"), ("Route", "Work", "default"), ("Work", "Failed", "catch"),
            ("Fan", "Failed", "catch"), ("Done", END, "end"), ("Failed", END, "end")} <= found


def test_parallel_branches_and_map_iterators_are_nested_groups_that_join_again() -> None:
    graph = build_graph(EVERY_TYPE)
    found = edges(EVERY_TYPE)
    assert ("Fan", "Fan/0/A", "branch") in found and ("Fan", "Fan/1/Each", "branch") in found
    assert ("Fan/1/Each", "Fan/1/Each/0/Item", "branch") in found
    assert ("Fan/1/Each/0/Item", "Fan/1/Each/__join__", "end") in found
    assert ("Fan/__join__", "Done", "next") in found
    assert graph.groups["Fan/1/Each/0"].parent == "Fan/1" and graph.groups["Fan/1"].parent is None
    assert graph.nodes["Fan/1/Each/0/Item"].group == "Fan/1/Each/0"


def test_retries_are_kept_on_their_state() -> None:
    assert build_graph(EVERY_TYPE).nodes["Work"].retries == ["States.Timeout ×2"]


def test_choice_rules_read_as_conditions() -> None:
    assert describe_choice({"Variable": "$.total", "NumericGreaterThan": 100}) == "$.total > 100"
    assert describe_choice({"Not": {"Variable": "$.s", "StringEquals": "x"}}) == 'not ($.s == "x")'
    assert describe_choice({"Condition": "{% $states.input.n > 1 %}"}) == "$states.input.n > 1"


def test_the_layout_places_every_node_without_overlap_inside_its_groups() -> None:
    graph = build_graph(EVERY_TYPE)
    layout = lay_out(graph)
    boxes = list(layout.nodes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
            assert apart, (a.node.id, b.node.id)
    assert layout.nodes[START].y < layout.nodes["Prepare"].y < layout.nodes["Route"].y  # layered top-down
    groups = {g.id: g for g in layout.groups}
    item = layout.nodes["Fan/1/Each/0/Item"]
    for group_id in ("Fan/1/Each/0", "Fan/1"):
        g = groups[group_id]
        assert g.x <= item.x and item.x + item.w <= g.x + g.w and g.y <= item.y and item.y + item.h <= g.y + g.h
    assert all(0 <= n.x and n.x + n.w <= layout.width and n.y + n.h <= layout.height for n in boxes)
    assert len(layout.edges) == len(graph.edges)


def event(id_: int, prev: int, kind: str, **details: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"id": id_, "previousEventId": prev, "type": kind}
    if kind.endswith("StateEntered"):
        document["stateEnteredEventDetails"] = {"name": details["name"], "input": "{}"}
    elif kind.endswith("StateExited"):
        document["stateExitedEventDetails"] = {"name": details["name"], "output": "{}"}
    elif details:
        document["taskFailedEventDetails"] = details
    return document


SAGA = [
    event(1, 0, "ExecutionStarted"),
    event(2, 1, "TaskStateEntered", name="Reserve"), event(3, 2, "TaskScheduled"), event(4, 3, "TaskSucceeded"),
    event(5, 4, "TaskStateExited", name="Reserve"),
    event(6, 5, "TaskStateEntered", name="Charge"), event(7, 6, "TaskScheduled"),
    event(8, 7, "TaskFailed", error="Declined"), event(9, 8, "TaskStateExited", name="Charge"),
    event(10, 9, "PassStateEntered", name="Undo"), event(11, 10, "PassStateExited", name="Undo"),
    event(12, 11, "FailStateEntered", name="Failed"), event(13, 12, "ExecutionFailed"),
]


def test_a_saga_shows_the_caught_state_the_compensation_and_the_failure() -> None:
    drawn = overlay(SAGA, "FAILED")
    assert {name: run.status for name, run in drawn.states.items()} == {
        "Reserve": "succeeded", "Charge": "caught", "Undo": "succeeded", "Failed": "failed"}
    assert drawn.states["Charge"].errors == ["Declined"]
    assert {("Reserve", "Charge"), ("Charge", "Undo"), ("Undo", "Failed")} <= drawn.transitions


def test_an_uncaught_error_fails_its_state_and_a_retry_that_works_succeeds() -> None:
    history = [
        event(1, 0, "ExecutionStarted"),
        event(2, 1, "TaskStateEntered", name="Flaky"), event(3, 2, "TaskScheduled"),
        event(4, 3, "TaskFailed", error="States.Timeout"), event(5, 4, "TaskScheduled"),
        event(6, 5, "TaskSucceeded"), event(7, 6, "TaskStateExited", name="Flaky"),
        event(8, 7, "TaskStateEntered", name="Broken"), event(9, 8, "TaskScheduled"),
        event(10, 9, "TaskFailed", error="Boom"), event(11, 10, "ExecutionFailed"),
    ]
    drawn = overlay(history, "FAILED")
    assert drawn.states["Flaky"].status == "succeeded" and drawn.states["Broken"].status == "failed"


def test_a_state_still_working_is_running() -> None:
    history = [event(1, 0, "ExecutionStarted"), event(2, 1, "TaskStateEntered", name="Slow"),
               event(3, 2, "TaskScheduled")]
    assert overlay(history, "RUNNING").states["Slow"].status == "running"


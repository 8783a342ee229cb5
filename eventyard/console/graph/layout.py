"""Place a state graph on a page: a layered (Sugiyama) layout by grandalf, then boxes around the
states of each Parallel branch and Map iterator. Returns plain coordinates the SVG template draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grandalf.graphs import Edge as LayoutEdge
from grandalf.graphs import Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from eventyard.console.graph.asl_graph import Edge, Node, StateGraph

NODE_WIDTH = 170
NODE_HEIGHT = 44
SMALL = 30  # start, end and join markers
MARGIN = 30
GROUP_PADDING = 14


class _Box:
    """What grandalf needs to know of a vertex: its size; it writes the centre into `xy`."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy = (0.0, 0.0)


class _Route:
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def setpath(self, points: list[Any]) -> None:
        self.points = [(float(x), float(y)) for x, y in points]


@dataclass
class PlacedNode:
    node: Node
    x: float  # top-left corner
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class PlacedEdge:
    edge: Edge
    path: str  # SVG path data
    label_x: float
    label_y: float


@dataclass
class PlacedGroup:
    id: str
    label: str
    x: float
    y: float
    w: float
    h: float
    depth: int


@dataclass
class Layout:
    width: float
    height: float
    nodes: dict[str, PlacedNode] = field(default_factory=dict)
    edges: list[PlacedEdge] = field(default_factory=list)
    groups: list[PlacedGroup] = field(default_factory=list)


def lay_out(graph: StateGraph) -> Layout:
    vertices = {node_id: Vertex(node_id) for node_id in graph.nodes}
    for node_id, vertex in vertices.items():
        small = graph.nodes[node_id].kind in {"start", "end", "join"}
        vertex.view = _Box(SMALL if small else NODE_WIDTH, SMALL if small else NODE_HEIGHT)
    layout_edges = []
    for edge in graph.edges:
        if edge.source == edge.target:
            continue  # a state that loops to itself: drawn as its own arc, layers need no self-loops
        layout_edge = LayoutEdge(vertices[edge.source], vertices[edge.target])
        layout_edge.view = _Route()
        layout_edges.append((edge, layout_edge))
    layered = Graph(list(vertices.values()), [e for _, e in layout_edges])
    offset_x = 0.0
    nesting = max((_depth(graph, g) for g in graph.groups), default=0)
    for component in layered.C:
        sugiyama = SugiyamaLayout(component)
        # room between columns for the boxes of nested branches on both sides
        sugiyama.xspace, sugiyama.yspace = 30 + 2 * _padding(1, nesting), 46 + _padding(1, nesting)
        sugiyama.init_all()
        sugiyama.draw(3)
        offset_x = _shift_component(component, offset_x)
    return _placed(graph, vertices, layout_edges, nesting)


def _depth(graph: StateGraph, group_id: str | None) -> int:
    level = 0
    while group_id is not None:
        group_id = graph.groups[group_id].parent
        level += 1
    return level


def _padding(level: int, nesting: int) -> int:
    """Outer boxes stand further from their states than the boxes nested inside them."""
    return GROUP_PADDING + 10 * max(0, nesting - level)


def _shift_component(component: Any, offset_x: float) -> float:
    """Put components side by side (a definition's unreachable states form their own)."""
    views = [v.view for v in component.sV]
    left = min(view.xy[0] - view.w / 2 for view in views)
    for vertex in component.sV:
        vertex.view.xy = (vertex.view.xy[0] - left + offset_x, vertex.view.xy[1])
    for edge in component.sE:
        if getattr(edge, "view", None) is not None and edge.view.points:
            edge.view.points = [(x - left + offset_x, y) for x, y in edge.view.points]
    return max(view.xy[0] + view.w / 2 for view in views) + 60


def _placed(graph: StateGraph, vertices: dict[str, Vertex], layout_edges: list[tuple[Edge, Any]],
            nesting: int) -> Layout:
    top = min(v.view.xy[1] - v.view.h / 2 for v in vertices.values())
    dx, dy = MARGIN + _padding(1, nesting), MARGIN + _padding(1, nesting) - top
    layout = Layout(0, 0)
    for node_id, vertex in vertices.items():
        view = vertex.view
        layout.nodes[node_id] = PlacedNode(graph.nodes[node_id], view.xy[0] - view.w / 2 + dx,
                                           view.xy[1] - view.h / 2 + dy, view.w, view.h)
    for edge, layout_edge in layout_edges:
        points = [(x + dx, y + dy) for x, y in layout_edge.view.points] or [
            (layout.nodes[edge.source].cx, layout.nodes[edge.source].cy),
            (layout.nodes[edge.target].cx, layout.nodes[edge.target].cy)]
        middle = points[len(points) // 2] if len(points) > 2 else (
            (points[0][0] + points[-1][0]) / 2, (points[0][1] + points[-1][1]) / 2)
        path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
        layout.edges.append(PlacedEdge(edge, path, middle[0] + 4, middle[1] - 3))
    layout.groups = _groups(graph, layout, nesting)
    right = max([n.x + n.w for n in layout.nodes.values()] + [g.x + g.w for g in layout.groups])
    bottom = max([n.y + n.h for n in layout.nodes.values()] + [g.y + g.h for g in layout.groups])
    layout.width, layout.height = right + MARGIN, bottom + MARGIN
    return layout


def _groups(graph: StateGraph, layout: Layout, nesting: int) -> list[PlacedGroup]:
    """A box around each branch/iterator's states (and the boxes nested in it), innermost last."""
    def members(group_id: str) -> list[PlacedNode]:
        inside = []
        for placed in layout.nodes.values():
            owner = placed.node.group
            while owner is not None and owner != group_id:
                owner = graph.groups[owner].parent
            if owner == group_id:
                inside.append(placed)
        return inside

    placed_groups = []
    for group in graph.groups.values():
        nodes = members(group.id)
        if not nodes:
            continue
        level = _depth(graph, group.id)
        pad = _padding(level, nesting)
        x, y = min(n.x for n in nodes) - pad, min(n.y for n in nodes) - pad - 8
        placed_groups.append(PlacedGroup(group.id, group.label, x, y, max(n.x + n.w for n in nodes) + pad - x,
                                         max(n.y + n.h for n in nodes) + pad - y, level))
    return sorted(placed_groups, key=lambda g: g.depth)

"""Diagrams as SVG, offline: a graph laid out in layers by grandalf (Sugiyama's method: cycles broken,
crossings reduced) and drawn here; a sequence and a timeline drawn straight from their rows. Every label is
XML-escaped (state names and event types are user data). No script, no font download, no network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from grandalf.graphs import Edge as LayoutEdge
from grandalf.graphs import Graph as LayoutGraph
from grandalf.graphs import Vertex
from grandalf.layouts import SugiyamaLayout

from stepdance.diagrams.graph import Edge, Graph, Node

FONT = "font-family='Helvetica, Arial, sans-serif'"
CHAR = 7.2  # px per character at 12 px: enough for the labels to fit, without measuring fonts
NOTE_CHAR = 5.8
FILL = {"": "#f4f6fb", "taken": "#d4f7d4", "failed": "#ffd6d6", "retried": "#fff2c6"}
STROKE = {"": "#4a5a7a", "taken": "#2a8a2a", "failed": "#c0392b", "retried": "#b7950b"}
MARGIN = 24
GAP = 36


@dataclass
class _Box:
    w: float
    h: float
    xy: tuple[float, float] = (0.0, 0.0)


@dataclass
class _Path:
    points: list[tuple[float, float]] = field(default_factory=list)

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = [(float(x), float(y)) for x, y in points]


def graph_svg(graph: Graph) -> str:
    """``graph`` laid out top-down (or left to right) and drawn."""
    across = graph.direction == "LR"
    graph = _merged(graph)
    sizes = {n.id: _size(n) for n in graph.nodes}
    vertices = {n.id: Vertex(n.id) for n in graph.nodes}
    for node_id, vertex in vertices.items():
        w, h = sizes[node_id]
        vertex.view = _Box(h, w) if across else _Box(w, h)  # laid out top-down, turned for LR
    edges = []
    for edge in graph.edges:
        if edge.source in vertices and edge.target in vertices and edge.source != edge.target:
            layout_edge = LayoutEdge(vertices[edge.source], vertices[edge.target], data=edge)
            layout_edge.view = _Path()
            edges.append(layout_edge)
    layout = LayoutGraph(list(vertices.values()), edges)
    offset = 0.0
    for component in layout.C:
        sugiyama = SugiyamaLayout(component)
        sugiyama.xspace, sugiyama.yspace = GAP, GAP + 10
        sugiyama.init_all()
        sugiyama.draw(3)
        xs = [v.view.xy[0] - v.view.w / 2 for v in component.sV]
        shift = offset - min(xs)
        for vertex in component.sV:
            vertex.view.xy = (vertex.view.xy[0] + shift, vertex.view.xy[1])
        for edge in component.sE:
            edge.view.points = [(x + shift, y) for x, y in edge.view.points]
        offset = max(v.view.xy[0] + v.view.w / 2 for v in component.sV) + GAP * 2

    def place(x: float, y: float) -> tuple[float, float]:
        return (y, x) if across else (x, y)

    boxes = {}
    for node in graph.nodes:
        view = vertices[node.id].view
        cx, cy = place(*view.xy)
        w, h = sizes[node.id]
        boxes[node.id] = (cx, cy, w, h)
    routed = [place(x, y) for edge in edges for x, y in edge.view.points]
    xs = [cx + d for cx, _, w, _ in boxes.values() for d in (-w / 2, w / 2)] + [x for x, _ in routed]
    ys = [cy + d for _, cy, _, h in boxes.values() for d in (-h / 2, h / 2)] + [y for _, y in routed]
    left, right = min(xs) - MARGIN - 40, max(xs) + MARGIN + 40
    top, bottom = min(ys) - MARGIN - 24, max(ys) + MARGIN
    right = max(right, left + len(graph.title) * 8.5 + 2 * MARGIN)  # the title fits
    pairs = {(e.data.source, e.data.target) for e in edges}
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='{left:.0f} {top:.0f} {right - left:.0f} "
        f"{bottom - top:.0f}' width='{right - left:.0f}' height='{bottom - top:.0f}' role='img'>",
        f"<title>{escape(graph.title)}</title>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#4a5a7a'/></marker>"
        "<marker id='arrow-taken' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#2a8a2a'/></marker></defs>",
        f"<text x='{left + MARGIN:.0f}' y='{top + 18:.0f}' {FONT} font-size='14' font-weight='bold'>"
        f"{escape(graph.title)}</text>",
    ]
    for edge in edges:
        parts.append(_edge(edge, boxes, place, (edge.data.target, edge.data.source) in pairs))
    for node in graph.nodes:
        parts.append(_node(node, *boxes[node.id]))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _merged(graph: Graph) -> Graph:
    """Edges with the same ends as one, their labels joined (two events from one service to another)."""
    merged: dict[tuple[str, str, bool], Edge] = {}
    for edge in graph.edges:
        key = (edge.source, edge.target, edge.dashed)
        found = merged.get(key)
        if found is None:
            merged[key] = edge
        else:
            label = ", ".join(x for x in (found.label, edge.label) if x)
            merged[key] = Edge(edge.source, edge.target, label, edge.dashed, found.mark or edge.mark)
    return Graph(graph.title, graph.nodes, list(merged.values()), graph.direction)


def _size(node: Node) -> tuple[float, float]:
    width = max(len(node.label) * CHAR, len(node.note) * NOTE_CHAR) + 28
    height = 40 if node.note else 30
    if node.shape == "circle":
        return 44.0, 44.0
    if node.shape == "diamond":
        return width + 30, height + 16
    return max(width, 60.0), float(height)


def _node(node: Node, cx: float, cy: float, w: float, h: float) -> str:
    fill, stroke = FILL.get(node.mark, FILL[""]), STROKE.get(node.mark, STROKE[""])
    x, y = cx - w / 2, cy - h / 2
    style = f"fill='{fill}' stroke='{stroke}' stroke-width='{2 if node.mark else 1.2}'"
    if node.shape == "circle":
        shape = f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='{w / 2 - 4:.1f}' {style}/>"
    elif node.shape == "diamond":
        points = f"{cx:.1f},{y:.1f} {x + w:.1f},{cy:.1f} {cx:.1f},{y + h:.1f} {x:.1f},{cy:.1f}"
        shape = f"<polygon points='{points}' {style}/>"
    elif node.shape == "cylinder":
        shape = (
            f"<path d='M{x:.1f},{y + 6:.1f} a{w / 2:.1f},6 0 0,0 {w:.1f},0 v{h - 12:.1f} "
            f"a{w / 2:.1f},6 0 0,1 {-w:.1f},0 z M{x:.1f},{y + 6:.1f} a{w / 2:.1f},6 0 0,1 {w:.1f},0' {style}/>"
        )
    else:
        radius = {"round": 10, "stadium": h / 2}.get(node.shape, 2)
        shape = f"<rect x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='{h:.1f}' rx='{radius:.1f}' {style}/>"
    label_y = (cy - 3 if node.note else cy + 4) + (4 if node.shape == "cylinder" else 0)
    text = (
        f"<text x='{cx:.1f}' y='{label_y:.1f}' text-anchor='middle' {FONT} font-size='12'>"
        f"{escape(node.label)}</text>"
    )
    if node.note:
        text += (
            f"<text x='{cx:.1f}' y='{cy + 11:.1f}' text-anchor='middle' {FONT} font-size='9.5' "
            f"fill='#555'>{escape(node.note)}</text>"
        )
    return f"<g class='node {node.mark}'><title>{escape(node.label)}</title>{shape}{text}</g>"


def _edge(
    edge: LayoutEdge,
    boxes: dict[str, tuple[float, float, float, float]],
    place: Callable[[float, float], tuple[float, float]],
    both_ways: bool,
) -> str:
    """An edge along its route; one of a pair going both ways bends to its right, so the two part."""
    data = edge.data
    points = [place(x, y) for x, y in edge.view.points] or [boxes[data.source][:2], boxes[data.target][:2]]
    points = _clip(points, boxes[data.source], boxes[data.target])
    if both_ways and len(points) == 2:
        (x1, y1), (x2, y2) = points
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1.0)
        bend = (-(y2 - y1) / length * 22, (x2 - x1) / length * 22)
        control = ((x1 + x2) / 2 + bend[0], (y1 + y2) / 2 + bend[1])
        path = f"M{x1:.1f},{y1:.1f} Q{control[0]:.1f},{control[1]:.1f} {x2:.1f},{y2:.1f}"
        points = [points[0], (control[0] - bend[0] / 2, control[1] - bend[1] / 2), points[1]]
    else:
        path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
    taken = data.mark == "taken"
    colour = STROKE["taken"] if taken else "#4a5a7a"
    dash = " stroke-dasharray='5,4'" if data.dashed else ""
    marker = "arrow-taken" if taken else "arrow"
    svg = (
        f"<path d='{path}' fill='none' stroke='{colour}' stroke-width='{2.4 if taken else 1.1}'{dash} "
        f"marker-end='url(#{marker})'/>"
    )
    if data.label:
        mx, my = (
            points[len(points) // 2]
            if len(points) > 2
            else (
                (points[0][0] + points[-1][0]) / 2,
                (points[0][1] + points[-1][1]) / 2,
            )
        )
        width = len(data.label) * NOTE_CHAR + 8
        svg += (
            f"<rect x='{mx - width / 2:.1f}' y='{my - 8:.1f}' width='{width:.1f}' height='14' fill='white' "
            f"opacity='0.85'/><text x='{mx:.1f}' y='{my + 3:.1f}' text-anchor='middle' {FONT} "
            f"font-size='9.5' fill='#333'>{escape(data.label)}</text>"
        )
    return f"<g class='edge'>{svg}</g>"


def _clip(
    points: list[tuple[float, float]],
    source: tuple[float, float, float, float],
    target: tuple[float, float, float, float],
) -> list[tuple[float, float]]:
    """The path from the source box's border to the target box's border (not from centre to centre)."""
    if len(points) < 2:
        return points
    first = _border(source, points[1])
    last = _border(target, points[-2])
    return [first, *points[1:-1], last]


def _border(box: tuple[float, float, float, float], toward: tuple[float, float]) -> tuple[float, float]:
    cx, cy, w, h = box
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(
        (w / 2) / abs(dx) if dx else float("inf"),
        (h / 2) / abs(dy) if dy else float("inf"),
    )
    return cx + dx * scale, cy + dy * scale

"""A diagram as data: nodes and edges, drawn as Mermaid text here and as SVG by :mod:`.svg`. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SHAPES = ("box", "round", "diamond", "stadium", "circle", "cylinder")
MARKS = ("", "taken", "failed", "retried")  # the path of one execution or order


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    shape: str = "box"
    group: str = ""  # drawn together (Mermaid: a subgraph)
    mark: str = ""
    note: str = ""  # a second, smaller line (a retry policy, a database)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False  # a Catch, a subscription
    mark: str = ""


@dataclass
class Graph:
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    direction: str = "TD"  # TD (top down) or LR

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def to_mermaid(self) -> str:
        lines = [f"---\ntitle: {self.title}\n---", f"flowchart {self.direction}"]
        groups: dict[str, list[Node]] = {}
        for node in self.nodes:
            groups.setdefault(node.group, []).append(node)
        for group, members in groups.items():
            indent = "    "
            if group:
                lines.append(f'    subgraph {_id(group)}["{_text(group)}"]')
                indent = "        "
            lines += [indent + _mermaid_node(n) for n in members]
            if group:
                lines.append("    end")
        for edge in self.edges:
            arrow = "-.->" if edge.dashed else ("==>" if edge.mark == "taken" else "-->")
            label = f'|"{_text(edge.label)}"|' if edge.label else ""
            lines.append(f"    {_id(edge.source)} {arrow}{label} {_id(edge.target)}")
        styles = {
            "taken": "fill:#d4f7d4,stroke:#2a8a2a",
            "failed": "fill:#ffd6d6,stroke:#c0392b",
            "retried": "fill:#fff2c6,stroke:#b7950b",
        }
        for mark, style in styles.items():
            marked = [_id(n.id) for n in self.nodes if n.mark == mark]
            if marked:
                lines.append(f"    classDef {mark} {style}")
                lines.append(f"    class {','.join(marked)} {mark}")
        return "\n".join(lines) + "\n"


def _mermaid_node(node: Node) -> str:
    text = _text(node.label) + (f"<br/><small>{_text(node.note)}</small>" if node.note else "")
    left, right = {
        "box": ("[", "]"),
        "round": ("(", ")"),
        "diamond": ("{", "}"),
        "stadium": ("([", "])"),
        "circle": ("((", "))"),
        "cylinder": ("[(", ")]"),
    }[node.shape]
    return f'{_id(node.id)}{left}"{text}"{right}'


def _id(name: str) -> str:
    """A Mermaid node id: letters, digits and underscores (state names may hold anything)."""
    return "n_" + re.sub(r"[^A-Za-z0-9_]", lambda m: f"_{ord(m.group()):x}_", name)


def _text(text: str) -> str:
    """Label text inside Mermaid's quotes: its quote and markup characters as entities."""
    return text.replace("&", "&amp;").replace('"', "#quot;").replace("<", "&lt;").replace(">", "&gt;")

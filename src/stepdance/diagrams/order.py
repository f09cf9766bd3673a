"""One order's sequence diagram and timeline, from its trace (:mod:`stepdance.observe`): who called or
delivered to whom, in order, failed calls marked; and every span on a time axis, a lane per component.
Mermaid text and SVG. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from stepdance.observe import OrderTrace, SpanRow

FONT = "font-family='Helvetica, Arial, sans-serif'"
COLOURS = {
    "orders": "#7fb77e",
    "engine": "#6c8ebf",
    "bus": "#b07fc7",
    "payment": "#e0a458",
    "inventory": "#5fb0b7",
    "notification": "#c9b458",
}


@dataclass(frozen=True)
class Message:
    """A step of the sequence: ``source`` asked ``target`` (or delivered to it) ``what``."""

    source: str
    target: str
    what: str
    seconds: float
    error: str | None


def messages(trace: OrderTrace) -> list[Message]:
    """The spans whose component differs from their parent's: a call, a task, a publish or a delivery
    crossing from one part to another, in the order they began."""
    by_id = {r.span_id: r for r in trace.rows}
    found = []
    for row in sorted(trace.rows, key=lambda r: r.offset):
        parent = by_id.get(row.parent_id)
        if parent is not None and parent.component != row.component:
            found.append(Message(parent.component, row.component, row.name, row.seconds, row.error))
    return found


def participants(trace: OrderTrace) -> list[str]:
    return list(dict.fromkeys(r.component for r in sorted(trace.rows, key=lambda r: r.offset)))


def sequence_mermaid(trace: OrderTrace) -> str:
    lines = [
        f"---\ntitle: order {_plain(trace.order_id)}, {trace.design}: sequence\n---",
        "sequenceDiagram",
    ]
    lines += [f"    participant {_plain(p)}" for p in participants(trace)]
    for m in messages(trace):
        arrow = "-x" if m.error else "->>"
        lines.append(
            f"    {_plain(m.source)}{arrow}{_plain(m.target)}: {_plain(m.what)} ({m.seconds * 1000:.1f} ms)"
        )
        if m.error:
            lines.append(f"    Note over {_plain(m.target)}: failed: {_plain(m.error)[:80]}")
    return "\n".join(lines) + "\n"


def timeline_mermaid(trace: OrderTrace) -> str:
    """A Gantt chart: a section per component, a bar per span, failed ones critical (red)."""
    start = min((r.offset for r in trace.rows), default=0.0)
    lines = [
        f"---\ntitle: order {_plain(trace.order_id)}, {trace.design}: timeline (ms from placement)\n---",
        "gantt",
        "    dateFormat x",
        "    axisFormat %L",
    ]
    for component in participants(trace):
        lines.append(f"    section {_plain(component)}")
        for row in (r for r in trace.rows if r.component == component):
            tag = "crit, " if row.error else ""
            begin = int((row.offset - start) * 1000)
            lines.append(f"    {_plain(row.name)} :{tag}{begin}, {max(1, round(row.seconds * 1000))}ms")
    return "\n".join(lines) + "\n"


def timeline_svg(trace: OrderTrace) -> str:
    rows: list[SpanRow] = list(trace.rows)
    width, label_width, lane = 980, 300, 18
    total = max(trace.seconds, 1e-3)
    scale = (width - label_width - 30) / total
    height = 60 + lane * len(rows) + 30
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='{width}' "
        f"height='{height}' role='img'><title>{escape(_title(trace, 'timeline'))}</title>",
        f"<text x='10' y='22' {FONT} font-size='14' font-weight='bold'>{escape(_title(trace, 'timeline'))}</text>",
    ]
    for tick in range(6):
        x = label_width + tick * (width - label_width - 30) / 5
        parts.append(
            f"<line x1='{x:.1f}' y1='40' x2='{x:.1f}' y2='{height - 24}' stroke='#ddd'/>"
            f"<text x='{x:.1f}' y='{height - 8}' text-anchor='middle' {FONT} font-size='10'>"
            f"{total * 1000 * tick / 5:.0f} ms</text>"
        )
    for index, row in enumerate(rows):
        y = 44 + index * lane
        colour = "#d9534f" if row.error else COLOURS.get(row.component, "#999")
        x = label_width + row.offset * scale
        parts.append(
            f"<g><title>{escape(row.name)}: {row.seconds * 1000:.1f} ms"
            f"{escape(' - ' + row.error) if row.error else ''}</title>"
            f"<text x='{8 + row.depth * 10}' y='{y + 12}' {FONT} font-size='11'>"
            f"{escape(_clip(row.name, 40 - row.depth))}</text>"
            f"<rect x='{x:.1f}' y='{y + 2}' width='{max(row.seconds * scale, 2):.1f}' height='{lane - 5}' "
            f"rx='2' fill='{colour}'/></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def sequence_svg(trace: OrderTrace) -> str:
    who = participants(trace)
    steps = messages(trace)
    column, top, step = 150, 70, 30
    width = 40 + column * len(who)
    height = top + step * (len(steps) + 1) + 20
    x_of = {name: 40 + column * i + column / 2 - 20 for i, name in enumerate(who)}
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='{width}' "
        f"height='{height}' role='img'><title>{escape(_title(trace, 'sequence'))}</title>",
        "<defs><marker id='head' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#333'/></marker></defs>",
        f"<text x='10' y='22' {FONT} font-size='14' font-weight='bold'>{escape(_title(trace, 'sequence'))}</text>",
    ]
    for name, x in x_of.items():
        parts.append(
            f"<rect x='{x - 55:.1f}' y='36' width='110' height='24' rx='4' fill='{COLOURS.get(name, '#ccc')}'/>"
            f"<text x='{x:.1f}' y='52' text-anchor='middle' {FONT} font-size='12'>{escape(name)}</text>"
            f"<line x1='{x:.1f}' y1='60' x2='{x:.1f}' y2='{height - 10}' stroke='#999' stroke-dasharray='4,4'/>"
        )
    for index, m in enumerate(steps):
        y = top + step * (index + 1)
        x1, x2 = x_of[m.source], x_of[m.target]
        colour = "#d9534f" if m.error else "#333"
        label = f"{m.what} ({m.seconds * 1000:.1f} ms)" + (" ✗" if m.error else "")
        parts.append(
            f"<g><title>{escape(m.error or m.what)}</title>"
            f"<line x1='{x1:.1f}' y1='{y}' x2='{x2:.1f}' y2='{y}' stroke='{colour}' stroke-width='1.4' "
            f"marker-end='url(#head)'/><text x='{(x1 + x2) / 2:.1f}' y='{y - 5}' text-anchor='middle' {FONT} "
            f"font-size='10' fill='{colour}'>{escape(_clip(label, 48))}</text></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _title(trace: OrderTrace, what: str) -> str:
    return f"order {trace.order_id}, {trace.design}: {what}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str) -> str:
    """Text Mermaid's sequence and Gantt syntax cannot misread (no ``:``, ``;``, ``#`` or newlines)."""
    return re.sub(r"[:;#\n\r]+", " ", text).strip()

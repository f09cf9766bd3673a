"""An order's traces from the spans every process wrote: the root span that placed the order names it
(``order.id``), its trace id gathers the rest; the spans are laid out as a tree, each under its parent,
siblings by start time. Pure but for :func:`order_traces`, which reads the span files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdance.telemetry import SPAN_FILES, read_spans

ORDER_ID = "order.id"


@dataclass(frozen=True)
class SpanRow:
    """One span of an order's trace, placed in it."""

    offset: float  # seconds from the trace's first span
    seconds: float
    depth: int  # 0 for a root, 1 for its children, ...
    component: str  # engine, bus, payment, inventory, notification, orders
    name: str
    error: str | None
    attributes: Mapping[str, Any]
    span_id: str
    parent_id: str


@dataclass(frozen=True)
class OrderTrace:
    order_id: str
    trace_id: str
    design: str
    rows: list[SpanRow]

    @property
    def seconds(self) -> float:
        return max((r.offset + r.seconds for r in self.rows), default=0.0)

    @property
    def errors(self) -> list[SpanRow]:
        return [r for r in self.rows if r.error]


def order_traces(root: Path, order_id: str) -> list[OrderTrace]:
    """The traces of ``order_id`` among the span files under ``root`` (any depth: a scenario run keeps its
    own data directory), oldest first; one per placement (the same id placed in several designs' runs)."""
    files = sorted(root.rglob(SPAN_FILES)) if root.exists() else []
    directories = sorted({f.parent for f in files})
    spans = [span for directory in directories for span in read_spans(directory)]
    return build(spans, order_id)


def build(spans: Iterable[Mapping[str, Any]], order_id: str) -> list[OrderTrace]:
    """The traces of ``order_id`` in ``spans`` (see :func:`order_traces`)."""
    spans = list(spans)
    roots = [
        s
        for s in spans
        if s.get("attributes", {}).get(ORDER_ID) == order_id and s["name"].startswith("order ")
    ]
    traces: list[OrderTrace] = []
    for trace_id in dict.fromkeys(r["traceId"] for r in sorted(roots, key=lambda r: r["start"])):
        members = [s for s in spans if s["traceId"] == trace_id]
        design = next(
            (str(r["attributes"].get("stepdance.design", "")) for r in roots if r["traceId"] == trace_id), ""
        )
        traces.append(OrderTrace(order_id, trace_id, design, list(_rows(members))))
    return traces


def _rows(spans: list[Mapping[str, Any]]) -> Iterator[SpanRow]:
    ids = {s["spanId"] for s in spans}
    children: dict[str, list[Mapping[str, Any]]] = {}
    for span in spans:
        parent = span.get("parentSpanId") or ""
        children.setdefault(parent if parent in ids else "", []).append(span)
    start = min((s["start"] for s in spans), default=0.0)

    def walk(parent: str, depth: int) -> Iterator[SpanRow]:
        for span in sorted(children.get(parent, []), key=lambda s: (s["start"], s["end"])):
            attributes = span.get("attributes", {})
            yield SpanRow(
                offset=span["start"] - start,
                seconds=max(0.0, span["end"] - span["start"]),
                depth=depth,
                component=str(attributes.get("stepdance.component") or span.get("service") or ""),
                name=span["name"],
                error=span.get("error"),
                attributes=attributes,
                span_id=span["spanId"],
                parent_id=span.get("parentSpanId") or "",
            )
            yield from walk(span["spanId"], depth + 1)

    yield from walk("", 0)

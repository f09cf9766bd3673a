"""What the dashboard's pages show, shaped from what the engine and the bus answer: pure functions, no I/O.

An execution's history becomes one row per state entered (its input, output, error, retries and how long it
took) and a timeline of bars; the SVGs are drawn by :mod:`stepdance.diagrams`, whose labels are escaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from stepdance.diagrams.statemachine import state_machine, with_path
from stepdance.diagrams.svg import graph_svg

FAILURES = ("Failed", "TimedOut", "Aborted")
DESIGN_OF_MACHINE = {"stepdance-order-saga": "orchestrated", "stepdance-order-saga-hybrid": "hybrid"}
MACHINE_OF_DESIGN = {design: machine for machine, design in DESIGN_OF_MACHINE.items()}


@dataclass
class StateRow:
    """One state entered, as the history tells it."""

    name: str
    kind: str  # the state type: Task, Choice, ...
    entered: float
    exited: float | None = None
    input: str = ""
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    attempts: int = 0  # tasks scheduled
    status: str = "running"  # running, succeeded, failed, retried (failed, then succeeded)
    failures: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        return None if self.exited is None else self.exited - self.entered


def epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def state_rows(history: Sequence[Mapping[str, Any]]) -> list[StateRow]:
    """A row per state entered, in the order they were entered (a state entered twice, by a loop or a
    redrive, has two rows)."""
    rows: list[StateRow] = []
    open_rows: dict[str, StateRow] = {}
    current: StateRow | None = None
    for event in history:
        kind = str(event.get("type", ""))
        at = epoch(event.get("timestamp", 0.0))
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails", {})
            current = StateRow(str(details.get("name", "")), kind.removesuffix("StateEntered"), at)
            current.input = pretty(details.get("input", ""))
            rows.append(current)
            open_rows[current.name] = current
        elif kind.endswith("StateExited"):
            details = event.get("stateExitedEventDetails", {})
            row = open_rows.pop(str(details.get("name", "")), None)
            if row is not None:
                row.exited, row.output = at, pretty(details.get("output", ""))
                row.status = "retried" if row.failures else "succeeded"
        elif current is not None and kind.endswith("Scheduled"):
            current.attempts += 1
        elif current is not None and kind.endswith(FAILURES) and not kind.startswith("Execution"):
            error, cause = _error_of(event)
            current.failures.append(f"{error}: {cause}" if cause else error)
            current.error, current.cause = error, cause
        elif kind.startswith("Execution") and kind.endswith(FAILURES):
            error, cause = _error_of(event)
            for row in open_rows.values():
                row.status = "failed"
                row.error = row.error or error
                row.cause = row.cause or cause
    for row in rows:
        if row.exited is None and row.failures and row.status == "running":
            row.status = "failed" if not _running(history) else "running"
    return rows


def _running(history: Sequence[Mapping[str, Any]]) -> bool:
    ends = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")
    return not any(str(e.get("type", "")) in ends for e in history)


def _error_of(event: Mapping[str, Any]) -> tuple[str, str | None]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping) and "error" in value:
            cause = value.get("cause")
            return str(value["error"]), None if cause is None else str(cause)
    return str(event.get("type", "")), None


def pretty(text: Any) -> str:
    """JSON text indented for reading (as it is when it is not JSON)."""
    if not isinstance(text, str):
        return json.dumps(text, indent=2, sort_keys=True)
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        return text


def graph(definition: str, history: Iterable[Mapping[str, Any]], title: str) -> str:
    """The state machine drawn from its definition, the path the history took marked."""
    return graph_svg(with_path(state_machine(definition, title), history))


BAR_HEIGHT, LABEL_WIDTH, WIDTH = 22, 170, 860


def timeline_svg(rows: Sequence[StateRow], now: float) -> str:
    """A bar per state from entered to exited (to ``now`` while it runs), on one time axis."""
    if not rows:
        return ""
    start = min(r.entered for r in rows)
    end = max([r.exited or now for r in rows] + [start + 0.001])
    scale = (WIDTH - LABEL_WIDTH - 60) / (end - start)
    height = BAR_HEIGHT * len(rows) + 30
    parts = [_svg_open(height, "timeline of the states")]
    for i, row in enumerate(rows):
        y = 10 + i * BAR_HEIGHT
        x = LABEL_WIDTH + (row.entered - start) * scale
        w = max(2.0, ((row.exited or now) - row.entered) * scale)
        took = "" if row.seconds is None else f" {row.seconds * 1000:.0f} ms"
        parts.append(
            f'<text x="4" y="{y + 15}" class="label">{escape(row.name[:24])}</text>'
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{BAR_HEIGHT - 6}" class="bar {row.status}">'
            f"<title>{escape(row.name)}: {row.status}{took}</title></rect>"
            f'<text x="{x + w + 4:.1f}" y="{y + 15}" class="took">{escape(took.strip())}</text>'
        )
    parts.append(_svg_close(height, end - start))
    return "".join(parts)


def _svg_open(height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}">'
    )


def _svg_close(height: int, seconds: float) -> str:
    """The time axis (0 to ``seconds``) and the end of the picture."""
    return (
        f'<text x="{LABEL_WIDTH}" y="{height - 4}" class="axis">0 ms</text>'
        f'<text x="{WIDTH - 60}" y="{height - 4}" class="axis">{seconds * 1000:.0f} ms</text></svg>'
    )


def steps_svg(steps: Sequence[Mapping[str, Any]]) -> str:
    """An order's steps (:func:`stepdance.faults.timeline.order_timeline`) as dots on one time axis, a lane
    per part that recorded them."""
    if not steps:
        return ""
    lanes = list(dict.fromkeys(str(s["where"]) for s in steps))
    start = min(float(s["at"]) for s in steps)
    end = max([float(s["at"]) for s in steps] + [start + 0.001])
    scale = (WIDTH - LABEL_WIDTH - 40) / (end - start)
    height = BAR_HEIGHT * len(lanes) + 30
    parts = [_svg_open(height, "the order on one timeline")]
    for i, lane in enumerate(lanes):
        parts.append(f'<text x="4" y="{10 + i * BAR_HEIGHT + 15}" class="label">{escape(lane[:24])}</text>')
    for step in steps:
        y = 10 + lanes.index(str(step["where"])) * BAR_HEIGHT + 11
        x = LABEL_WIDTH + (float(step["at"]) - start) * scale
        kind = "failed" if _bad(str(step["what"])) else "succeeded"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y}" r="6" class="dot {kind}">'
            f"<title>{escape(str(step['where']))}: {escape(str(step['what']))}</title></circle>"
        )
    parts.append(_svg_close(height, end - start))
    return "".join(parts)


def _bad(what: str) -> bool:
    lowered = what.lower()
    return any(word in lowered for word in ("fail", "dead-letter", "error", "cancelled", "declined"))


def design_of(state_machine_arn: str) -> str:
    """The order design an execution belongs to (``other`` for a state machine of the user's own)."""
    return DESIGN_OF_MACHINE.get(state_machine_arn.rsplit(":", 1)[-1], "other")


def bus_steps(traces: Sequence[Any], start: float) -> list[dict[str, Any]]:
    """The bus's part of an order's traces (:class:`stepdance.observe.traces.OrderTrace`): each publish and
    each delivery attempt, failed ones with their error, as order steps (``at`` from the trace's first span,
    placed at ``start``, the order's placement)."""
    steps: list[dict[str, Any]] = []
    for trace in traces:
        for row in trace.rows:
            if row.component != "bus":
                continue
            attempt = row.attributes.get("bus.attempt")
            what = row.name + (f" (attempt {attempt})" if attempt and int(attempt) > 1 else "")
            if row.error:
                what += f": failed, {row.error}"
            steps.append({"at": start + row.offset, "where": "bus", "what": what})
    return steps

"""What the dashboard's pages show, shaped from what the engine and the bus answer: pure functions, no I/O.

An execution's history becomes one row per state entered (its input, output, error, retries and how long it
took) and a timeline of bars; the SVGs are drawn by :mod:`stepdance.diagrams`, whose labels are escaped. A
Cloud Workflows execution's history becomes one row per step entry instead (:func:`entry_rows`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any, Protocol

from stepdance.diagrams.svg import graph_svg
from stepdance.diagrams.workflows import diagram_of
from stepdance.gcw.syntax import looks_like_workflows

FAILURES = ("Failed", "TimedOut", "Aborted")
DESIGN_OF_MACHINE = {
    "stepdance-order-saga": "orchestrated",
    "stepdance-order-saga-hybrid": "hybrid",
    "stepdance-order-saga-workflows": "workflows",
}
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


SHOWN_TEXT = 4000  # characters of an entry's output or error on the page; the history has the rest
_ENDS = {"StepEntrySucceeded": "succeeded", "StepEntryFailed": "failed", "StepEntryCancelled": "cancelled"}
_FORKS = ("PARALLEL_BRANCH", "PARALLEL_FOR")


@dataclass
class EntryRow:
    """One step entry of a Cloud Workflows execution, from its ``StepEntry...`` events (see
    :mod:`stepdance.gcw.machine_entries`), with the requests it sent, the retries of a ``try`` and the
    ``sys.log`` lines it wrote."""

    entry_id: Any
    routine: str
    step: str
    step_type: str
    thread: str
    path: str
    line: int
    entered: float
    exited: float | None = None
    status: str = "running"  # running, succeeded, failed, cancelled, retried (a try that retried, then did)
    output: str | None = None  # indented
    brief: str = ""  # the output on one line, shortened
    error: str | None = None  # the exception's message, shortened
    exception: str | None = None  # the exception's payload, indented
    note: str = ""  # the condition that held, the iteration, the branch, the retry's delay
    tasks: int = 0  # requests or connector calls sent
    retries: int = 0
    depth: int = 0  # entries open around it on its thread: how far in it is nested
    logs: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.step} · {self.step_type.lower()}"

    @property
    def times(self) -> str:
        """When it started and ended, to the millisecond (UTC, as the history table shows them)."""
        shown = [
            datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S.%f")[:-3]
            for t in (self.entered, self.exited)
            if t is not None
        ]
        return " to ".join(shown)

    @property
    def seconds(self) -> float | None:
        return None if self.exited is None else self.exited - self.entered


def entry_rows(history: Sequence[Mapping[str, Any]]) -> list[EntryRow]:
    """A row per step entry, in the order they were created; entries still open when the execution ended
    are failed (or cancelled, if it was stopped), and stay running while it runs."""
    rows: list[EntryRow] = []
    by_id: dict[Any, EntryRow] = {}
    open_rows: dict[Any, EntryRow] = {}
    bases: dict[str, int] = {}  # a thread's depth: one in from the parallel step that started it
    for event in history:
        kind = str(event.get("type", ""))
        details = event.get("stepEntryDetails")
        at = epoch(event.get("timestamp", 0.0))
        if not isinstance(details, Mapping):
            if kind.startswith("Execution") and kind.endswith(FAILURES):
                for row in open_rows.values():
                    row.status = "cancelled" if kind == "ExecutionAborted" else "failed"
            continue
        if kind == "StepEntryStarted":
            row = _entry(details, at, open_rows, bases)
            rows.append(row)
            by_id[row.entry_id] = row
            open_rows[row.entry_id] = row
        elif kind in _ENDS:
            found = open_rows.pop(details.get("entryId"), None)
            if found is not None:
                _end(found, details, _ENDS[kind], at)
        elif (owner := by_id.get(details.get("entryId"))) is not None:  # a log or a task of the entry
            if kind == "LogWritten":
                log = event.get("logWrittenEventDetails", {})
                owner.logs.append(f"{log.get('severity', '')}: {_shorter(str(log.get('payload', '')), 500)}")
            elif kind.endswith("Scheduled"):
                owner.tasks += 1
    return rows


def _entry(
    details: Mapping[str, Any], at: float, open_rows: Mapping[Any, EntryRow], bases: dict[str, int]
) -> EntryRow:
    thread = str(details.get("thread", ""))
    if thread not in bases:
        forks = [r for r in open_rows.values() if r.step_type in _FORKS]
        bases[thread] = forks[-1].depth + 1 if forks else 0
    row = EntryRow(
        details.get("entryId"),
        str(details.get("routine", "")),
        str(details.get("step", "")),
        str(details.get("stepType", "")),
        thread,
        str(details.get("path", "")),
        int(details.get("line", 0) or 0),
        at,
        depth=bases[thread] + sum(1 for r in open_rows.values() if r.thread == thread),
    )
    for owner in open_rows.values():
        if owner.step_type == "SWITCH" and owner.thread == thread and not owner.note:
            owner.note = _condition_of(owner.path, row.path)
    if row.step_type == "RETRY":
        row.note = f"retry {details.get('retry', '')} after {details.get('delay', '')} s"
        tries = [r for r in open_rows.values() if r.thread == thread and r.path == row.path]
        if tries and tries[-1].step_type == "TRY_RETRY_EXCEPT":
            tries[-1].retries += 1
    elif "iteration" in details:
        row.note = f"iteration {details['iteration']}"
    elif "branch" in details:
        row.note = f"branch {details['branch']}"
    if isinstance(details.get("exception"), Mapping):  # what a retry or an except was entered for
        row.error, row.exception = _exception(details["exception"])
    return row


def _condition_of(switch: str, path: str) -> str:
    """The condition that held, from the path of the first entry inside the switch (an entry ending with
    a jump says it with ``condition``; one whose condition runs steps does not)."""
    inside = path.removeprefix(f"{switch}.switch[")
    return f"condition [{inside.split(']', 1)[0]}] held" if inside != path else ""


def _end(row: EntryRow, details: Mapping[str, Any], status: str, at: float) -> None:
    row.exited = at
    row.status = "retried" if status == "succeeded" and row.retries else status
    if "condition" in details:
        row.note = f"condition [{details['condition']}] held"
    if "output" in details:
        value = _json(details["output"])
    elif isinstance(details.get("variables"), Mapping):  # what an assign set
        value = {k: _json(v) for k, v in details["variables"].items()}
    else:
        value = None
    if value is not None or "output" in details:
        row.output = _shorter(json.dumps(value, indent=2, ensure_ascii=False), SHOWN_TEXT)
        row.brief = _shorter(json.dumps(value, separators=(",", ":"), ensure_ascii=False), 60)
    if isinstance(details.get("exception"), Mapping):
        row.error, row.exception = _exception(details["exception"])


def _exception(exception: Mapping[str, Any]) -> tuple[str, str]:
    """The error's message (its payload when it has none), and its payload indented."""
    payload = _json(exception.get("payload", ""))
    message = payload.get("message") if isinstance(payload, dict) else None
    shown = message if isinstance(message, str) else json.dumps(payload)
    return _shorter(shown, 160), _shorter(pretty(exception.get("payload", "")), SHOWN_TEXT)


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def _shorter(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty(text: Any) -> str:
    """JSON text indented for reading (as it is when it is not JSON)."""
    if not isinstance(text, str):
        return json.dumps(text, indent=2, sort_keys=True)
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        return text


def graph(definition: str, history: Iterable[Mapping[str, Any]], title: str) -> str:
    """The state machine (or workflow) drawn from its definition, the path the history took marked."""
    try:
        return graph_svg(diagram_of(definition, title, history))
    except ValueError as error:  # the engine validated it; a page still shows, not a crash, if not
        return f'<p class="problem">The definition cannot be drawn: {escape(str(error))}</p>'


def is_workflows(definition: str) -> bool:
    """Whether a state machine's definition is a Cloud Workflows one (its history has step entries)."""
    return looks_like_workflows(definition)


class Bar(Protocol):
    """What the timeline draws of a row (a :class:`StateRow`, an :class:`EntryRow`)."""

    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def entered(self) -> float: ...
    @property
    def exited(self) -> float | None: ...
    @property
    def seconds(self) -> float | None: ...


BAR_HEIGHT, LABEL_WIDTH, WIDTH = 22, 170, 860


def timeline_svg(rows: Sequence[Bar], now: float) -> str:
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

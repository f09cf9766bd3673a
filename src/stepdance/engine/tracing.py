"""The engine's spans, recorded from the history each transition commits: one span per execution (from
its start to its end; a redrive is a new one), one per state (entered to exited, a child of the
execution's), and one per task invocation (a child of its state's, made live around the handler, so a
service's own spans and the events it publishes nest under it).

Span ids are derived from the execution's ARN and its history's event ids, so the worker that records a
state's exit, maybe not the one that saw it entered (a takeover after a crash), names it as the one that
made its task's span did: a worker that takes an execution over reads the states it is in, their entered
event ids and times, from the execution's snapshot (:meth:`ExecutionSpans.adopted`).

A Cloud Workflows execution has step entries instead of states: one span per entry (``StepEntryStarted`` to
its end), its id derived from the entry's id, which the snapshot keeps for every open entry, so a worker
taking over names them as the one that opened them did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from opentelemetry.trace import SpanKind

from stepdance import telemetry

_END = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}


def execution_span_id(arn: str, redrive_count: int) -> int:
    return telemetry.derived_span_id(arn, "execution", redrive_count)


def state_span_id(arn: str, entered_event_id: int) -> int:
    return telemetry.derived_span_id(arn, "state", entered_event_id)


def entry_span_id(arn: str, entry_id: int) -> int:
    return telemetry.derived_span_id(arn, "entry", entry_id)


class ExecutionSpans:
    """What one actor remembers to record its execution's spans: the states entered and not yet left."""

    def __init__(self, arn: str, info: Mapping[str, Any], started: float, adopted_at: float) -> None:
        self.arn = arn
        self.trace_header = info.get("trace_header")
        self.redrive_count = int(info.get("redrive_count") or 0)
        self.started = started  # this run of the execution (the start, or the last redrive)
        self.adopted_at = adopted_at  # when this worker began advancing it
        self.open: dict[str, list[tuple[int, float]]] = {}  # state name -> [(entered event id, at)]
        self.entries: dict[int, tuple[str, float]] = {}  # open step entry id -> (step name, at)
        self.name = arn.rsplit(":", 1)[-1]
        self._execution: tuple[int, str] | None = None

    @property
    def execution(self) -> str:
        """The execution span's ``traceparent`` (its parent is the trace header's span); made once per run
        of the execution (a state's exit asks for it each time)."""
        if self._execution is None or self._execution[0] != self.redrive_count:
            made = telemetry.start_context(
                self.arn, parent=self.trace_header, span_id=execution_span_id(self.arn, self.redrive_count)
            )
            self._execution = (self.redrive_count, made)
        return self._execution[1]

    def adopted(self, snapshot: Mapping[str, Any]) -> None:
        """The states the execution is in, from its snapshot's frames (a worker taking it over)."""
        for thread in (snapshot.get("threads") or {}).values():  # a Cloud Workflows snapshot
            for record in _open_entries(thread):
                self.entries[int(record["e"])] = (str(record.get("n", "")), self.adopted_at)
        for frame in (snapshot.get("frames") or {}).values():
            entered = int(frame.get("entered_id") or 0)
            if entered and frame.get("state"):
                at = _epoch(str(frame.get("entered_time") or "")) or self.adopted_at
                self.open.setdefault(str(frame["state"]), []).append((entered, at))

    def state(self, name: str) -> str:
        """The ``traceparent`` of the state ``name`` entered last (the execution's when unknown here)."""
        entered = self.open.get(name)
        if not entered:
            entry = next((e for e, (n, _) in reversed(self.entries.items()) if n == name), None)
            if entry is not None:
                return telemetry.start_context(
                    self.arn, parent=self.trace_header, span_id=entry_span_id(self.arn, entry)
                )
            return self.execution
        return telemetry.start_context(
            self.arn, parent=self.trace_header, span_id=state_span_id(self.arn, entered[-1][0])
        )

    def written(self, events: Iterable[Mapping[str, Any]], info: Mapping[str, Any]) -> None:
        """Record the spans ``events`` (just committed) close."""
        for event in events:
            kind, at = str(event["type"]), float(event["timestamp"])
            if kind.endswith("StateEntered"):
                name = event["stateEnteredEventDetails"]["name"]
                self.open.setdefault(name, []).append((int(event["id"]), at))
            elif kind.endswith("StateExited"):
                self._state_exited(kind, event["stateExitedEventDetails"]["name"], at)
            elif kind == "StepEntryStarted":
                details = event["stepEntryDetails"]
                self.entries[int(details["entryId"])] = (str(details["step"]), at)
            elif kind.startswith("StepEntry"):
                self._entry_ended(event["stepEntryDetails"], at)
            elif kind == "ExecutionRedriven":
                self.redrive_count = int(info.get("redrive_count") or self.redrive_count + 1)
                self.started = at
            elif kind in _END:
                self._ended(kind, event, at, info)

    def _state_exited(self, kind: str, name: str, at: float) -> None:
        entered = self.open.get(name)
        if entered:
            event_id, began = entered.pop(0)
            span_id = state_span_id(self.arn, event_id)
        else:  # entered before this worker took the execution over
            span_id, began = telemetry.derived_span_id(self.arn, "state", name, at), self.adopted_at
        telemetry.record_span(
            name,
            parent=self.execution,
            span_id=span_id,
            start=began,
            end=at,
            attributes={
                "stepdance.component": "engine",
                "asl.state.type": kind.removesuffix("StateExited"),
                "asl.execution.arn": self.arn,
            },
        )

    def _entry_ended(self, details: Mapping[str, Any], at: float) -> None:
        entry_id = int(details["entryId"])
        name, began = self.entries.pop(entry_id, (str(details.get("step", "")), self.adopted_at))
        exception = details.get("exception")
        telemetry.record_span(
            name,
            parent=self.execution,
            span_id=entry_span_id(self.arn, entry_id),
            start=began,
            end=at,
            attributes={
                "stepdance.component": "engine",
                "workflows.step.type": str(details.get("stepType", "")),
                "workflows.step.routine": str(details.get("routine", "")),
                "workflows.step.line": int(details.get("line") or 0),
                "workflows.step.state": str(details.get("state", "")),
                "asl.execution.arn": self.arn,
            },
            error=None if not exception else str(exception.get("payload", ""))[:500],
        )

    def _ended(self, kind: str, event: Mapping[str, Any], at: float, info: Mapping[str, Any]) -> None:
        details: Mapping[str, Any] = (
            next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
        )
        error = details.get("error") if kind != "ExecutionSucceeded" else None
        telemetry.record_span(
            f"execution {self.name}",
            parent=self.trace_header,
            span_id=execution_span_id(self.arn, self.redrive_count),
            trace_id=telemetry.derived_trace_id(self.arn),
            start=self.started or at,
            end=at,
            kind=SpanKind.SERVER,
            attributes={
                "stepdance.component": "engine",
                "asl.execution.arn": self.arn,
                "asl.execution.status": kind.removeprefix("Execution").upper(),
                "asl.state_machine.arn": str(info.get("state_machine_arn", "")),
            },
            error=None if error is None else f"{error}: {details.get('cause') or ''}".rstrip(": "),
        )


def _open_entries(thread: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """The step entries a Workflows thread keeps open: its constructs' and the call it waits on."""
    for frame in thread.get("frames") or []:
        for ctl in frame.get("ctl") or []:
            if isinstance(ctl, dict) and "e" in ctl:
                yield ctl
            elif isinstance(ctl, dict) and isinstance(ctl.get("rec"), dict):
                yield ctl["rec"]
    wait = thread.get("wait") or {}
    if isinstance(wait.get("rec"), dict):
        yield wait["rec"]


def _epoch(iso: str) -> float | None:
    """``2026-01-01T00:00:00.123Z`` (how the interpreter records times) as epoch seconds."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None

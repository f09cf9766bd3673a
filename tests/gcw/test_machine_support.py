"""Shared drivers for the Workflows interpreter's tests: ``run`` a definition to its end in the simulator,
or ``Drive`` it one signal at a time (stop, redrive, tasks that never answer). Both pass the snapshot
through JSON between transitions, as the engine stores it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stepdance.asl.protocol import Command, InvokeTask, Signal, StartTimer, Step
from stepdance.gcw import machine
from stepdance.gcw.simulate import START, Outcome, info_for, simulate
from stepdance.gcw.syntax import Workflows, parse

EXAMPLES = Path(__file__).parent / "examples"


def example(name: str) -> Workflows:
    return parse((EXAMPLES / f"{name}.yaml").read_text(), name)


def run(text: str, argument: Any = None, **options: Any) -> Outcome:
    return simulate(parse(text), json.dumps(argument), **options)


def started(outcome: Outcome, step_type: str | None = None) -> list[dict[str, Any]]:
    """The details of every StepEntryStarted (of one step type), in order."""
    return [
        e["stepEntryDetails"]
        for e in outcome.events
        if e["type"] == "StepEntryStarted" and step_type in (None, e["stepEntryDetails"]["stepType"])
    ]


def logs(outcome: Outcome) -> list[Any]:
    return [
        json.loads(e["logWrittenEventDetails"]["payload"])
        for e in outcome.events
        if e["type"] == "LogWritten"
    ]


class Drive:
    """The machine by hand: each ``send`` is one transition on a JSON copy of the last snapshot."""

    def __init__(
        self, text: str | Workflows, argument: Any = None, env: dict[str, str] | None = None
    ) -> None:
        self.definition = parse(text) if isinstance(text, str) else text
        self.now = START
        self.last = machine.start(self.definition, info_for(), json.dumps(argument), self.now, env)
        self.events = list(self.last.events)
        self.commands: list[Command] = list(self.last.commands)

    def send(self, signal: Signal, at: float | None = None) -> Step:
        self.now = at if at is not None else self.now
        state = json.loads(json.dumps(self.last.state))
        self.last = machine.advance(self.definition, state, signal, self.now)
        self.events.extend(self.last.events)
        self.commands.extend(self.last.commands)
        return self.last

    def tasks(self) -> list[InvokeTask]:
        return [c for c in self.last.commands if isinstance(c, InvokeTask)]

    def timers(self) -> list[StartTimer]:
        return [c for c in self.last.commands if isinstance(c, StartTimer)]


def test_ids_are_contiguous_and_chained() -> None:
    outcome = simulate(example("subworkflow"), json.dumps({"first_name": "Ada", "last_name": "Lovelace"}))
    ids = [e["id"] for e in outcome.events]
    assert ids == list(range(1, len(ids) + 1))
    assert all(0 <= e["previousEventId"] < e["id"] for e in outcome.events)
    assert all(e["timestamp"] == START for e in outcome.events)
    assert outcome.events[0]["type"] == "ExecutionStarted"
    assert outcome.events[-1]["type"] == "ExecutionSucceeded"

"""The stepdance side of the benchmarks, in one place: how a state machine is created and run."""

from __future__ import annotations

import json
from typing import Any, Protocol


class Runner(Protocol):
    description: str

    def create(self, name: str, definition: dict[str, Any]) -> str: ...

    def run(self, arn: str, input_text: str) -> str:
        """Run one execution to its end; its output."""
        ...


class SimulateRunner:
    """The transition function driven by :func:`stepdance.asl.simulate.run` (no engine, no store)."""

    description = "stepdance.asl.simulate.run (the durable Engine is not available yet)"

    def __init__(self) -> None:
        from stepdance.asl.definition import Definition

        self._parse = Definition.parse
        self._machines: dict[str, Any] = {}
        self._count = 0

    def create(self, name: str, definition: dict[str, Any]) -> str:
        self._machines[name] = self._parse(json.dumps(definition))
        return name

    def run(self, arn: str, input_text: str) -> str:
        from stepdance.asl import simulate

        self._count += 1
        outcome = simulate.run(self._machines[arn], input_text, info=simulate.info_for(f"e{self._count}"))
        if outcome.status != "SUCCEEDED":
            raise RuntimeError(f"execution ended {outcome.status}: {outcome.error} {outcome.cause}")
        return outcome.output or "null"


def in_memory() -> Runner:
    return SimulateRunner()

"""The definition languages the engine runs: Amazon States Language and Google Cloud Workflows.

A state machine's definition text says which it is (:func:`language_of`); the engine parses it once per
revision into a :class:`Program` and drives both interpreters through the same pure contract
(``start``/``advance`` -> :class:`~stepdance.asl.protocol.Step`), so durability, leases, timers, tasks and
history are the same for either. Nothing is stored about the language: the text is the truth, and an
``update_state_machine`` may even switch it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from stepdance.asl import machine as asl_machine
from stepdance.asl.definition import Definition, DefinitionError
from stepdance.asl.protocol import ExecutionInfo, Signal, Step
from stepdance.gcw import machine as gcw_machine
from stepdance.gcw.syntax import Workflows, looks_like_workflows
from stepdance.gcw.syntax import parse as parse_workflows
from stepdance.gcw.syntax_report import SyntaxProblems

ASL, WORKFLOWS = "asl", "workflows"


class LanguageError(ValueError):
    """The definition is not valid in its language; the message says what and where."""


def language_of(text: str) -> str:
    """``workflows`` for a Cloud Workflows definition (YAML or JSON), else ``asl``.

    ASL is JSON only, so text that is not JSON is Workflows YAML (a broken one is then reported with its
    YAML line, not as bad JSON); JSON is Workflows when it is shaped like it (steps, or workflows with
    steps) and has neither of ASL's two required fields."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return WORKFLOWS if stripped else ASL
    try:
        root = orjson.loads(text)
    except orjson.JSONDecodeError:
        return ASL  # broken JSON: ASL's parser says what is wrong with it
    if isinstance(root, dict) and ("StartAt" in root or "States" in root):
        return ASL
    return WORKFLOWS if looks_like_workflows(text) else ASL


@dataclass(frozen=True, slots=True)
class Program:
    """A parsed definition and the interpreter that runs it."""

    language: str
    definition: Definition | Workflows
    env: Mapping[str, str] = field(default_factory=dict)  # Workflows' user-defined environment variables

    def start(self, info: ExecutionInfo, input_text: str, now: float) -> Step:
        if isinstance(self.definition, Workflows):
            return gcw_machine.start(self.definition, info, input_text, now, self.env)
        return asl_machine.start(self.definition, info, input_text, now)

    def advance(self, state: dict[str, Any], signal: Signal, now: float) -> Step:
        if isinstance(self.definition, Workflows):
            return gcw_machine.advance(self.definition, state, signal, now)
        return asl_machine.advance(self.definition, state, signal, now)


def compile_text(text: str, env: Mapping[str, str] | None = None) -> Program:
    """``text`` parsed in its language; LanguageError saying what is wrong (Workflows: every problem with
    its line)."""
    if language_of(text) == WORKFLOWS:
        try:
            return Program(WORKFLOWS, parse_workflows(text), dict(env or {}))
        except SyntaxProblems as problems:
            raise LanguageError("; ".join(str(p) for p in problems.problems)) from None
    try:
        return Program(ASL, Definition.parse(text))
    except DefinitionError as error:
        raise LanguageError(str(error)) from None

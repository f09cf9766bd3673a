"""A state machine definition as typed, immutable states.

``Definition.parse(text)`` validates first (:mod:`stepdance.asl.validate`) and raises
:class:`DefinitionError` listing every problem; a parsed definition is therefore well-formed and the
interpreter can rely on its shape. Each state keeps its raw JSON object (``raw``) for the fields that are
evaluated as templates (Parameters, Arguments, Output, Assign, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

QueryLanguage = Literal["JSONPath", "JSONata"]
StateType = Literal["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem, shaped like AWS's ValidateStateMachineDefinition diagnostics."""

    code: str  # e.g. SCHEMA_VALIDATION_FAILED, INVALID_JSON_DESCRIPTION, MISSING_TRANSITION_TARGET
    message: str
    location: str  # a JSON pointer, "/States/Charge/Next"
    severity: Literal["ERROR", "WARNING"] = "ERROR"

    def __str__(self) -> str:
        return f"{self.code}: {self.message} at {self.location or '/'}"


class DefinitionError(ValueError):
    """The definition is not valid ASL; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_strategy: Literal["FULL", "NONE"] = "NONE"
    comment: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Retrier:
        return cls(
            error_equals=tuple(raw["ErrorEquals"]),
            interval_seconds=raw.get("IntervalSeconds", 1),
            max_attempts=raw.get("MaxAttempts", 3),
            backoff_rate=raw.get("BackoffRate", 2.0),
            max_delay_seconds=raw.get("MaxDelaySeconds"),
            jitter_strategy=raw.get("JitterStrategy", "NONE"),
            comment=raw.get("Comment"),
        )


@dataclass(frozen=True, slots=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Catcher:
        return cls(error_equals=tuple(raw["ErrorEquals"]), next=raw["Next"], raw=raw)


@dataclass(frozen=True, slots=True)
class State:
    """Any state. ``query_language`` is the effective one (the state's own, else the machine's)."""

    name: str
    type: StateType
    raw: dict[str, Any]
    query_language: QueryLanguage
    next: str | None = None
    end: bool = False
    retriers: tuple[Retrier, ...] = ()
    catchers: tuple[Catcher, ...] = ()
    # Parallel branches; Map has exactly one (its ItemProcessor / Iterator).
    branches: tuple[Machine, ...] = ()
    # Whether any of its JSONPath expressions may read the context object ($$); JSONata states always may.
    # A state that cannot is evaluated without building it.
    uses_context: bool = True

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    @property
    def is_jsonata(self) -> bool:
        return self.query_language == "JSONata"


@dataclass(frozen=True, slots=True)
class Machine:
    """A state machine or a branch/item processor inside one."""

    start_at: str
    states: dict[str, State]
    query_language: QueryLanguage
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, raw: dict[str, Any], inherited: QueryLanguage = "JSONPath") -> Machine:
        """``inherited`` is the top-level language: a state without its own QueryLanguage uses the
        machine's, also inside Map and Parallel (AWS does not pass a Map's or Parallel's language down)."""
        language: QueryLanguage = raw.get("QueryLanguage", inherited)
        states = {name: _state(name, body, language) for name, body in raw["States"].items()}
        return cls(start_at=raw["StartAt"], states=states, query_language=language, raw=raw)


def _state(name: str, raw: dict[str, Any], top: QueryLanguage) -> State:
    language: QueryLanguage = raw.get("QueryLanguage", top)
    branches: tuple[Machine, ...] = ()
    if raw["Type"] == "Parallel":
        branches = tuple(Machine.from_json(b, top) for b in raw["Branches"])
    elif raw["Type"] == "Map":
        processor = raw["ItemProcessor"] if "ItemProcessor" in raw else raw["Iterator"]
        branches = (Machine.from_json(processor, top),)
    return State(
        name=name,
        type=raw["Type"],
        raw=raw,
        query_language=language,
        next=raw.get("Next"),
        end=bool(raw.get("End", False)),
        retriers=tuple(Retrier.from_json(r) for r in raw.get("Retry", ())),
        catchers=tuple(Catcher.from_json(c) for c in raw.get("Catch", ())),
        branches=branches,
        uses_context=language == "JSONata" or _mentions_context(raw),
    )


def _mentions_context(value: Any) -> bool:
    """Whether ``$$`` appears in any text of ``value`` (keys included: ``"x.$": "$$.Execution.Id"``)."""
    if isinstance(value, str):
        return "$$" in value
    if isinstance(value, dict):
        return any(_mentions_context(k) or _mentions_context(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions_context(v) for v in value)
    return False


@dataclass(frozen=True, slots=True)
class Definition:
    """A whole, validated state machine definition."""

    machine: Machine
    text: str
    timeout_seconds: float | None = None
    comment: str | None = None

    @property
    def raw(self) -> dict[str, Any]:
        return self.machine.raw

    @classmethod
    def parse(cls, text: str | dict[str, Any]) -> Definition:
        """Parse and validate; raises :class:`DefinitionError` with every problem found."""
        from stepdance.asl.validate import validate_text

        source = text if isinstance(text, str) else json.dumps(text)
        problems = [p for p in validate_text(source) if p.severity == "ERROR"]
        if problems:
            raise DefinitionError(problems)
        raw = json.loads(source)
        return cls(
            machine=Machine.from_json(raw),
            text=source,
            timeout_seconds=raw.get("TimeoutSeconds"),
            comment=raw.get("Comment"),
        )

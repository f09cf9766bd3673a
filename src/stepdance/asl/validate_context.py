"""What every validation rule shares: the problem list, locations and the query language in force.

Locations follow AWS's diagnostics: a slash-separated path from the root with array items as ``[i]``
(``/States/Charge/Catch[0]/Next``, ``/States/P/Branches[1]/States/X``); the root itself is ``/``.
Names are not escaped, as AWS does not escape them either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from stepdance.asl.definition import Problem, QueryLanguage

SCHEMA = "SCHEMA_VALIDATION_FAILED"

# AWS's names for JSON types in "Expected value of type ..." messages.
TYPE_NAMES: dict[type, str] = {
    str: "String",
    bool: "Boolean",
    int: "Integer",
    float: "Number",
    dict: "Object",
    list: "Array",
}


def child(location: str, key: str) -> str:
    return f"{location}/{key}"


def item(location: str, index: int) -> str:
    return f"{location}[{index}]"


def shown(location: str) -> str:
    """The location as AWS prints it: the root is ``/``."""
    return location or "/"


def language_of(raw: object, default: QueryLanguage) -> QueryLanguage:
    """AWS reads JSONPath only from the exact string; any other value means JSONata (and is reported)."""
    if not isinstance(raw, dict) or "QueryLanguage" not in raw:
        return default
    return "JSONPath" if raw["QueryLanguage"] == "JSONPath" else "JSONata"


@dataclass
class Report:
    """Collects problems; rules add to it and never raise."""

    problems: list[Problem] = field(default_factory=list)
    # Every state name seen so far (names are unique across the whole machine, branches included).
    state_names: set[str] = field(default_factory=set)
    # The machine's own query language: nested states inherit it, not their Map's or Parallel's.
    root_language: QueryLanguage = "JSONPath"

    def add(
        self, code: str, message: str, location: str, severity: Literal["ERROR", "WARNING"] = "ERROR"
    ) -> None:
        self.problems.append(Problem(code, message, shown(location), severity))

    def schema(self, message: str, location: str) -> None:
        self.add(SCHEMA, message, location)

    def warn(self, code: str, message: str, location: str) -> None:
        self.add(code, message, location, "WARNING")

    def expect(self, value: Any, kinds: tuple[type, ...], location: str) -> bool:
        """Report a type mismatch; ``bool`` is never accepted as a number, as in JSON."""
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        elif isinstance(value, float) and int in kinds and float not in kinds:
            ok = value.is_integer()
        else:
            ok = isinstance(value, kinds)
        if not ok:
            self.schema(f"Expected value of type {TYPE_NAMES[kinds[0]]}", location)
        return ok


@dataclass(frozen=True, slots=True)
class StateContext:
    """One state being checked: its raw object, name, location and effective query language."""

    name: str
    raw: dict[str, Any]
    location: str
    language: QueryLanguage

    @property
    def is_jsonata(self) -> bool:
        return self.language == "JSONata"

    def at(self, key: str) -> str:
        return child(self.location, key)

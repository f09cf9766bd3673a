"""Run a folder of event-pattern cases through TestEventPattern's logic and compare with what AWS answered.

Each case is one outcome, filed under its expected result (``match``, ``no_match``, ``invalid``) so the table
shows where the matcher and AWS disagree. For ``invalid`` the error message must be AWS's too (its first
line), as ``check.py --message`` requires.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepdance.bus.patterns import InvalidEvent, InvalidEventPattern, test_event_pattern
from stepdance.conformance.cases import PatternCase, read_folder
from stepdance.conformance.results import Outcome, Report, Unreadable

SECTION = "patterns"
SHOWN_TEXT = 300  # characters of the pattern and the event quoted in a failure


@dataclass(slots=True)
class LoadedPatterns:
    cases: list[PatternCase] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Verdict:
    result: str  # "match", "no_match" or "invalid"
    code: str | None = None
    message: str | None = None


def load_pattern_folder(folder: Path, only: str | None = None) -> LoadedPatterns:
    """The pattern cases under ``folder`` (other kinds are left out). Raises OSError if it cannot be read."""
    cases, unreadable = read_folder(folder, only, lambda case: isinstance(case, PatternCase))
    return LoadedPatterns([c for c in cases if isinstance(c, PatternCase)], unreadable)


def run_pattern_cases(
    cases: list[PatternCase], on_outcome: Callable[[Outcome], None] | None = None
) -> Report:
    report = Report(sections_shown=(SECTION,))
    for case in cases:
        outcome = run_pattern_case(case)
        report.outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return report


def run_pattern_case(case: PatternCase) -> Outcome:
    raw = case.raw
    expected = str(raw.get("expected", "?"))
    try:
        differences = compare(raw, evaluate(raw))
    except Exception as exc:  # a bug in the matcher is this case's failure, not the run's
        differences = [f"raised {type(exc).__qualname__}: {exc}"]
    if differences:
        differences += [f"pattern: {_shown(pattern_text(raw))}", f"event: {_shown(event_text(raw))}"]
    return Outcome(case.id, SECTION, expected, not differences, tuple(differences))


def evaluate(raw: dict[str, Any]) -> Verdict:
    try:
        matched = test_event_pattern(event_text(raw), pattern_text(raw))
    except (InvalidEventPattern, InvalidEvent) as exc:
        return Verdict("invalid", exc.code, exc.message)
    return Verdict("match" if matched else "no_match")


def compare(raw: dict[str, Any], verdict: Verdict) -> list[str]:
    """The differences ``check.py`` reports: the result, then an invalid pattern's code and message."""
    if verdict.result != raw.get("expected"):
        got = verdict.result if verdict.message is None else f"{verdict.result} ({verdict.message})"
        return [f"expected {raw.get('expected')}, got {got}"]
    differences = []
    if verdict.result == "invalid":
        for name, ours in (("error_code", verdict.code), ("error_message", verdict.message)):
            theirs = raw.get(name)
            if theirs is not None and ours != theirs:
                differences.append(f"{name} differs: expected {theirs!r}, got {ours!r}")
    return differences


def pattern_text(raw: dict[str, Any]) -> str:
    text = raw.get("pattern_text")
    return text if isinstance(text, str) else json.dumps(raw.get("pattern"))


def event_text(raw: dict[str, Any]) -> str:
    text = raw.get("event_text")
    return text if isinstance(text, str) else json.dumps(raw.get("event"))


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN_TEXT else flat[:SHOWN_TEXT] + " ..."

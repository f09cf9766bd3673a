"""Checks on the transitions of one machine (the root, a branch or an item processor): every target
exists in the same States object, every state can be reached from StartAt, and some state ends the run.

A branch is a scope of its own: its states cannot transition out of it, nor can outer states into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stepdance.asl.validate_context import Report, child, item
from stepdance.asl.validate_schema import STATE_TYPES

MISSING_TARGET = "MISSING_TRANSITION_TARGET"
TERMINAL_TYPES = frozenset({"Succeed", "Fail"})


def check_graph(report: Report, raw: dict[str, Any], location: str) -> None:
    states: dict[str, Any] = raw["States"]
    states_at = child(location, "States")
    start = raw.get("StartAt")
    if isinstance(start, str) and start not in states:
        report.add(MISSING_TARGET, f"Missing 'StartAt' target: {start}", child(location, "StartAt"))
    for name, state in states.items():
        for target, at in _targets(state, child(states_at, name)):
            if target not in states:
                report.add(MISSING_TARGET, f"Missing '{at.rsplit('/', 1)[-1]}' target: {target}", at)
    if states and not any(_may_end(state) for state in states.values()):
        report.add("MISSING_END_STATE", "Workflow has no terminal state", location)
        return
    if isinstance(start, str) and start in states:
        for name in _unreachable(states, start):
            report.add(MISSING_TARGET, f'State "{name}" is not reachable.', child(states_at, name))


def _targets(state: Any, location: str) -> Iterator[tuple[str, str]]:
    """Every state name this state may transition to, with the location of the field naming it."""
    if not isinstance(state, dict):
        return
    for key in ("Next", "Default"):
        if isinstance(state.get(key), str):
            yield state[key], child(location, key)
    for key in ("Choices", "Catch"):
        rules = state.get(key)
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                yield rule["Next"], child(item(child(location, key), index), "Next")


def _may_end(state: Any) -> bool:
    """Whether the state ends the run; a state too malformed to tell (already reported) is given the benefit."""
    kind = state.get("Type") if isinstance(state, dict) else None
    if not isinstance(kind, str) or kind not in STATE_TYPES:
        return True
    return state.get("End") is True or kind in TERMINAL_TYPES


def _unreachable(states: dict[str, Any], start: str) -> list[str]:
    seen, pending = {start}, [start]
    while pending:
        for target, _ in _targets(states[pending.pop()], ""):
            if target in states and target not in seen:
                seen.add(target)
                pending.append(target)
    return [name for name in states if name not in seen]

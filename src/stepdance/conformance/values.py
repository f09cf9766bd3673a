"""Comparing normalised JSON values: numbers by value, booleans strictly, two JSON texts by the values they
hold, numbered placeholders by order of first occurrence, Parallel branch events as unordered runs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from stepdance.conformance.parallel import BRANCH_EVENT_ID

_NUMBERED_PLACEHOLDER = re.compile(r"<([A-Za-z_-]+):(\d+)>")
MAX_DIFFERENCES = 40


def renumber_placeholders(value: Any) -> Any:
    """``<uuid:7>`` ... renumbered 1, 2, ... per name in order of first occurrence.

    The recorded numbering counts over a whole LocalStack test, which may have run several executions."""
    numbers: dict[str, dict[str, int]] = {}

    def renumber(match: re.Match[str]) -> str:
        seen = numbers.setdefault(match[1], {})
        return f"<{match[1]}:{seen.setdefault(match[2], len(seen) + 1)}>"

    return json.loads(_NUMBERED_PLACEHOLDER.sub(renumber, json.dumps(value)))


def unordered_branch_runs(events: list[Any]) -> list[Any]:
    """Each run of consecutive Parallel branch events (id ``[0]``) put into a canonical order."""
    result: list[Any] = []
    run: list[Any] = []
    for event in events:
        if isinstance(event, dict) and event.get("id") == BRANCH_EVENT_ID:
            run.append(event)
            continue
        result += sorted(run, key=_canonical_text)
        run = []
        result.append(event)
    return result + sorted(run, key=_canonical_text)


def _canonical_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def parsed_json(value: Any) -> tuple[bool, Any]:
    """``(True, value of the text)`` for a string holding JSON, else ``(False, value)``."""
    if isinstance(value, str):
        try:
            return True, json.loads(value)
        except ValueError:
            pass
    return False, value


def differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Human-readable differences, at most :data:`MAX_DIFFERENCES`; empty when the values are equal."""
    found: list[str] = []
    _compare(expected, actual, path, found)
    return found[:MAX_DIFFERENCES]


def _compare(expected: Any, actual: Any, path: str, found: list[str]) -> None:
    if len(found) >= MAX_DIFFERENCES:
        return
    for applies, compare in _RULES:
        if applies(expected, actual):
            compare(expected, actual, path, found)
            return
    if not (type(expected) is type(actual) and expected == actual):
        found.append(_mismatch(path, expected, actual))


def _mismatch(path: str, expected: Any, actual: Any) -> str:
    return f"{path}: expected {_short(expected)}, got {_short(actual)}"


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _booleans(expected: Any, actual: Any, path: str, found: list[str]) -> None:
    if not (isinstance(expected, bool) and isinstance(actual, bool) and expected == actual):
        found.append(_mismatch(path, expected, actual))


def _numbers(expected: Any, actual: Any, path: str, found: list[str]) -> None:
    if expected != actual:
        found.append(_mismatch(path, expected, actual))


def _strings(expected: Any, actual: Any, path: str, found: list[str]) -> None:
    if expected == actual:
        return
    if isinstance(expected, str) and isinstance(actual, str):
        (expected_is_json, expected_value), (actual_is_json, actual_value) = (
            parsed_json(expected),
            parsed_json(actual),
        )
        if expected_is_json and actual_is_json and not differences(expected_value, actual_value, path):
            return
    found.append(_mismatch(path, expected, actual))


def _objects(expected: dict[str, Any], actual: dict[str, Any], path: str, found: list[str]) -> None:
    for key, value in expected.items():
        if key in actual:
            _compare(value, actual[key], f"{path}.{key}", found)
        else:
            found.append(f"{path}.{key}: missing (expected {_short(value, 200)})")
    found.extend(
        f"{path}.{key}: unexpected {_short(actual[key], 200)}" for key in actual if key not in expected
    )


def _arrays(expected: list[Any], actual: list[Any], path: str, found: list[str]) -> None:
    for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
        _compare(left, right, f"{path}[{index}]", found)
    if len(expected) != len(actual):
        found.append(f"{path}: expected {len(expected)} items, got {len(actual)}")


Rule = tuple[Callable[[Any, Any], bool], Callable[[Any, Any, str, list[str]], None]]
_RULES: tuple[Rule, ...] = (
    (lambda e, a: isinstance(e, bool) or isinstance(a, bool), _booleans),
    (lambda e, a: _is_number(e) and _is_number(a), _numbers),
    (lambda e, a: isinstance(e, str) or isinstance(a, str), _strings),
    (lambda e, a: isinstance(e, dict) and isinstance(a, dict), _objects),
    (lambda e, a: isinstance(e, list) and isinstance(a, list), _arrays),
)

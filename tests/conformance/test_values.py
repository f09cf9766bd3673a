"""How normalised values compare."""

from __future__ import annotations

from typing import Any

import pytest

from stepdance.conformance.values import differences, renumber_placeholders, unordered_branch_runs


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (1, 1.0),
        ("[1, 2]", "[1,2]"),
        ('"hi"', '"hi"'),
        ({"a": [1, {"b": "x"}]}, {"a": [1.0, {"b": "x"}]}),
        (None, None),
    ],
)
def test_equal_values(expected: Any, actual: Any) -> None:
    assert differences(expected, actual) == []


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (True, 1),
        (0, False),
        ("1", 1),
        ("[1, 2]", "[2, 1]"),
        ("abc", "abd"),
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"a": 1}, {}),
        ([1, 2], [1]),
        ({}, []),
        (None, "null"),
    ],
)
def test_different_values(expected: Any, actual: Any) -> None:
    assert differences(expected, actual) != []


def test_differences_name_the_path() -> None:
    assert differences({"a": [0, {"b": 1}]}, {"a": [0, {"b": 2}]}) == ["$.a[1].b: expected 1, got 2"]


def test_placeholders_are_renumbered_by_first_occurrence_per_name() -> None:
    value = {"a": "<uuid:7> <json-input:3>", "b": ["<uuid:2>", "<uuid:7>"]}
    assert renumber_placeholders(value) == {"a": "<uuid:1> <json-input:1>", "b": ["<uuid:2>", "<uuid:1>"]}


def test_branch_event_runs_compare_unordered() -> None:
    first = [{"id": 1}, {"id": [0], "n": "b"}, {"id": [0], "n": "a"}, {"id": 9}]
    second = [{"id": 1}, {"id": [0], "n": "a"}, {"id": [0], "n": "b"}, {"id": 9}]
    assert unordered_branch_runs(first) == unordered_branch_runs(second)
    assert unordered_branch_runs(first)[1:3] == second[1:3]

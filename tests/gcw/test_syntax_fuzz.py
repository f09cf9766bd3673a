"""Whatever the text, ``validate`` returns problems and ``parse`` raises nothing but SyntaxProblems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepdance.gcw.syntax import Problem, SyntaxProblems, Workflows, looks_like_workflows, parse, validate

EXAMPLES = [path.read_text() for path in sorted((Path(__file__).parent / "examples").glob("*.yaml"))]
KEYS = [
    "main", "params", "steps", "assign", "call", "args", "result", "switch", "condition", "next", "for",
    "value", "index", "in", "range", "parallel", "branches", "shared", "concurrency_limit",
    "exception_policy", "try", "retry", "predicate", "max_retries", "backoff", "initial_delay", "max_delay",
    "multiplier", "except", "as", "raise", "return", "url", "a", "b", "sub",
]  # fmt: skip
STRINGS = st.sampled_from(
    ["", "a", "b", "end", "break", "continue", "http.get", "sys.log", "sub", "googleapis.x.v1.y", "${x}",
     "${", "${a + }", "}", "${http.default_retry}", "continueAll", "x.y[0]", "a[", "1x", "true"]
) | st.text(max_size=6)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers(-3, 100) | st.floats(allow_nan=False) | STRINGS
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=30,
)
FRAGMENTS = st.sampled_from(
    ["\n", "  ", "- ", ": ", "main:", "steps:", "- a:", "call: ", "next: ", "${", "}", "[", "]", "{", "}",
     ",", "'", '"', "&x ", "*x", "!!str ", "? ", "#", "|\n", "\t", "for:", "value: v", "in: ", "1", "null"]
)  # fmt: skip
YAMLISH = st.lists(FRAGMENTS | st.text(max_size=3), max_size=40).map("".join)


def _check(text: str) -> None:
    problems = validate(text)
    assert isinstance(problems, list) and all(isinstance(p, Problem) for p in problems)
    assert all(isinstance(p.line, int | None) and isinstance(p.path, str) for p in problems)
    try:
        workflows = parse(text)
    except SyntaxProblems as error:
        assert error.problems == problems and problems
    else:
        assert isinstance(workflows, Workflows) and problems == []
    assert isinstance(looks_like_workflows(text), bool)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_yamlish_text(text: str) -> None:
    _check(text)


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_any_text(text: str) -> None:
    _check(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_any_shape_of_yaml(value: Any) -> None:
    _check(yaml.safe_dump(value))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES), st.data())
def test_examples_broken_at_random(text: str, data: st.DataObject) -> None:
    lines = text.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(lines) - 1))
        edit = data.draw(st.sampled_from(["drop", "dedent", "indent", "insert", "cut"]))
        if edit == "drop":
            del lines[at]
        elif edit == "dedent":
            lines[at] = lines[at][2:]
        elif edit == "indent":
            lines[at] = "  " + lines[at]
        elif edit == "insert":
            lines.insert(at, data.draw(FRAGMENTS) + data.draw(STRINGS) + "\n")
        else:
            lines[at] = lines[at][: data.draw(st.integers(0, len(lines[at])))] + "\n"
        if not lines:
            break
    _check("".join(lines))

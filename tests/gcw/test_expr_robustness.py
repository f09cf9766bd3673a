"""Hostile and random input ends in a Workflows error, never in a Python exception or a crash."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepdance.gcw.expr import Context, ExprSyntaxError, WorkflowsError, evaluate, parse
from stepdance.gcw.expr.stdlib import FUNCTIONS

CONTEXT = Context.fixed(now=1.5, uuids=["u"] * 10_000, env={"E": "v"})
SCOPE: dict[str, Any] = {
    "i": 3,
    "z": 0,
    "big": 2**63 - 1,
    "d": -2.5,
    "s": "a,b",
    "t": True,
    "n": None,
    "l": [1, "x", [2.0]],
    "m": {"k": {"j": 1}, "s": "v"},
    "raw": b"\xffab",
}

_VARIABLES = ["i", "z", "big", "d", "s", "t", "n", "l", "m", "raw", "m.k", 'm["s"]', "l[0]", "l[2]"]
_LITERALS = ["0", "-1", "2.5", '""', '"a"', '","', "true", "null", "[]", "{}", '{"k": 1}', "[1, 2]"]
_ATOMS = st.sampled_from([*_VARIABLES, *_LITERALS, '"[0-9]+"', '"(?i)a"', '"UTF-8"'])
_BINARY = st.sampled_from(
    ["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "in", "and", "or"]
)
_NAMES = sorted(FUNCTIONS)


def _expressions() -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(children, _BINARY, children).map(lambda p: f"({p[0]} {p[1]} {p[2]})")
        unary = st.tuples(st.sampled_from(["-", "not "]), children).map(lambda p: f"{p[0]}{p[1]}")
        call = st.tuples(st.sampled_from(_NAMES), st.lists(children, max_size=3)).map(
            lambda p: f"{p[0]}({', '.join(p[1])})"
        )
        index = st.tuples(children, children).map(lambda p: f"{p[0]}[{p[1]}]")
        attribute = st.tuples(children, st.sampled_from(["k", "j", "s", "x"])).map(
            lambda p: f"({p[0]}).{p[1]}"
        )
        return binary | unary | call | index | attribute

    return st.recursive(_ATOMS, extend, max_leaves=12)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions())
def test_random_expressions_raise_only_workflows_errors(text: str) -> None:
    try:
        tree = parse(text, max_length=10_000)
    except ExprSyntaxError:
        return
    try:
        evaluate(tree, SCOPE, CONTEXT)
    except WorkflowsError as error:
        assert error.tags
        assert isinstance(error.message, str)


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("argument", ["n", "t", "i", "d", "s", "l", "m", "raw", "-1", "big"])
def test_every_function_rejects_bad_arguments_with_a_workflows_error(name: str, argument: str) -> None:
    for args in ([], [argument], [argument, argument], [argument, argument, argument]):
        text = f"{name}({', '.join(args)})"
        with contextlib.suppress(WorkflowsError):
            evaluate(parse(text), SCOPE, CONTEXT)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "text",
    [
        "a == b",
        "a != b",
        "a in [b]",
        "json.encode(a)",
        "map.merge_nested(x, y)",
    ],
)
def test_deeply_nested_values_give_resource_limit_errors(text: str) -> None:
    deep_map: Any = {}
    cursor = deep_map
    for _ in range(2000):
        cursor["k"] = {}
        cursor = cursor["k"]
    scope = {"a": _nested(5000), "b": _nested(5000), "x": deep_map, "y": deep_map}
    with pytest.raises(WorkflowsError) as raised:
        evaluate(parse(text), scope, CONTEXT)
    assert raised.value.tags == ["ResourceLimitError"]


def test_context_fixed_reports_exhausted_uuids() -> None:
    context = Context.fixed(uuids=["only"])
    assert evaluate(parse("uuid.generate()"), {}, context) == "only"
    with pytest.raises(LookupError, match="every recorded uuid"):
        evaluate(parse("uuid.generate()"), {}, context)
